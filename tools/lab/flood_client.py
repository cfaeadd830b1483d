#!/usr/bin/env python3
"""Lab client: opens N connections to HOST one after the other, TLS with SNI on port 443 or HTTP
with that Host on any other port; prints how many were reset.  The flood suites (test_incidents,
test_auto_diagnose) run it inside a lab namespace.

usage: flood_client.py HOST N SNI [PORT]"""
import socket
import ssl
import sys

host, n, sni = sys.argv[1], int(sys.argv[2]), sys.argv[3]
port = int(sys.argv[4]) if len(sys.argv) > 4 else 443
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
reset = 0
for i in range(n):
    s = socket.create_connection((host, port), timeout=3)
    try:
        if port == 443:
            ctx.wrap_socket(s, server_hostname=sni).close()
        else:
            s.sendall(f"GET / HTTP/1.1\r\nHost: {sni}\r\n\r\n".encode())
            s.recv(100)
    except ConnectionResetError:
        reset += 1
    except (ssl.SSLError, OSError):
        pass
    s.close()
print(reset)
