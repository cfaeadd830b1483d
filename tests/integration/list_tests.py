"""Prints the ctest entries of one integration suite, one `NAME ARGUMENT` per line:
one entry per unittest class, or per test method with --methods (the long suites),
so that ctest can run the suite's parts side by side.  Read by CMakeLists.txt at
configure time; the suites' files are configure dependencies, so a new class or
test re-runs it."""
import ast
import sys


def entries(path, methods):
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        tests = [n.name for n in node.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
        if not tests:
            continue  # a base class (or a helper): run through its subclasses
        if methods:
            for t in tests:
                yield f"{node.name}.{t}"
        else:
            yield node.name


def main():
    path, methods = sys.argv[1], "--methods" in sys.argv[2:]
    for e in entries(path, methods):
        print(e)


if __name__ == "__main__":
    main()
