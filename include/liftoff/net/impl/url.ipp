#ifndef LIFTOFF_NET_IMPL_URL_IPP
#define LIFTOFF_NET_IMPL_URL_IPP

#include <liftoff/net/url.hpp>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace liftoff::net {

LIFTOFF_DECL std::string percent_encode(std::string_view text, std::string_view keep) {
  if (keep.empty()) return boost::urls::encode(text, boost::urls::unreserved_chars);
  std::string const kept(keep);  // lut_chars takes a NUL-terminated string
  return boost::urls::encode(text, boost::urls::unreserved_chars + boost::urls::grammar::lut_chars(kept.c_str()));
}

}  // namespace liftoff::net

#endif
