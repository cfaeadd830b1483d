#include "tls_hello.h"

#include <openssl/ssl.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace rsthop::test {

Bytes openssl_client_hello(std::string_view sni) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) throw std::runtime_error("SSL_CTX_new failed");
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl) throw std::runtime_error("SSL_new failed");
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), rbio, wbio);  // ssl owns both now
  std::string name(sni);
  if (!name.empty() && SSL_set_tlsext_host_name(ssl.get(), name.c_str()) != 1)
    throw std::runtime_error("SSL_set_tlsext_host_name failed");
  SSL_set_connect_state(ssl.get());
  int rc = SSL_connect(ssl.get());  // writes the ClientHello, then wants the server's reply
  if (rc > 0 || SSL_get_error(ssl.get(), rc) != SSL_ERROR_WANT_READ)
    throw std::runtime_error("SSL_connect did not stop for the ServerHello");
  char* p = nullptr;
  long n = BIO_get_mem_data(wbio, &p);
  if (n <= 0 || !p) throw std::runtime_error("no ClientHello written");
  return Bytes(reinterpret_cast<uint8_t*>(p), reinterpret_cast<uint8_t*>(p) + n);
}

}  // namespace rsthop::test
