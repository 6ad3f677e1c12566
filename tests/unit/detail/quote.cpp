#include <liftoff/detail/quote.hpp>

#include <catch2/catch.hpp>

#include <string>

using liftoff::detail::describe_unprintable;
using liftoff::detail::quote_excerpt;
using liftoff::detail::quote_plain;

TEST_CASE("quote_excerpt: short text is quoted whole", "[detail][quote]") {
  CHECK(quote_excerpt("train") == "\"train\"");
  CHECK(quote_excerpt("") == "\"\"");
  CHECK(quote_excerpt("caf\xc3\xa9") == "\"caf\xc3\xa9\"");  // printable UTF-8 stays as it is
}

TEST_CASE("quote_excerpt: long text is cut, with an ellipsis and its whole length", "[detail][quote]") {
  std::string const big(10240, 'a');
  auto q = quote_excerpt(big);
  CHECK(q == "\"" + std::string(64, 'a') + "\xe2\x80\xa6\" (10240 bytes)");
  CHECK(quote_excerpt(std::string(64, 'a')) == "\"" + std::string(64, 'a') + "\"");  // exactly max: not cut
  CHECK(quote_excerpt("abcdef", 3) == "\"abc\xe2\x80\xa6\" (6 bytes)");
}

TEST_CASE("quote_excerpt: never cuts inside a UTF-8 sequence", "[detail][quote]") {
  // 63 bytes, then the two bytes of 'é': the 64-byte cut would fall between them.
  auto s = std::string(63, 'a') + "\xc3\xa9" + "zz";
  CHECK(quote_excerpt(s) == "\"" + std::string(63, 'a') + "\xe2\x80\xa6\" (67 bytes)");
  // A four-byte sequence that does not fit is left out whole.
  CHECK(quote_excerpt("ab\xf0\x9f\x98\x80", 4) == "\"ab\xe2\x80\xa6\" (6 bytes)");
}

TEST_CASE("quote_excerpt: control characters, quotes and bad bytes are escaped", "[detail][quote]") {
  CHECK(quote_excerpt("a\nb") == R"("a\nb")");
  CHECK(quote_excerpt("\r\t\b\f") == R"("\r\t\b\f")");
  CHECK(quote_excerpt("\x1b[31mred") == R"("\u001b[31mred")");
  CHECK(quote_excerpt(std::string("a\0b", 3)) == R"("a\u0000b")");
  CHECK(quote_excerpt("\x7f") == R"("\u007f")");
  CHECK(quote_excerpt("\xc2\x9b") == R"("\u009b")");                 // C1 CSI
  CHECK(quote_excerpt("\xe2\x80\xae" "abc") == R"("\u202eabc")");    // right-to-left override
  CHECK(quote_excerpt("\xe2\x80\xa8") == R"("\u2028")");             // line separator
  CHECK(quote_excerpt(R"(say "hi" \o/)") == R"("say \"hi\" \\o/")");
  CHECK(quote_excerpt("ok\xff\xc3") == R"("ok\xff\xc3")");           // invalid UTF-8, byte by byte
  CHECK(quote_excerpt("\xed\xa0\x80") == R"("\xed\xa0\x80")");       // a surrogate is not UTF-8
  CHECK(quote_excerpt("\xc0\xaf") == R"("\xc0\xaf")");               // nor is an overlong '/'
  // A forged log line stays on the line it is quoted in.
  auto forged = quote_excerpt("x\" 200\n127.0.0.1 GET /admin");
  CHECK(forged.find('\n') == std::string::npos);
  CHECK(forged == R"("x\" 200\n127.0.0.1 GET /admin")");
}

TEST_CASE("quote_plain: plain names keep single quotes, anything else is quote_excerpt", "[detail][quote]") {
  CHECK(quote_plain("local-process") == "'local-process'");
  CHECK(quote_plain("Has Spaces") == "'Has Spaces'");
  CHECK(quote_plain("") == "''");
  CHECK(quote_plain("it's") == R"("it's")");
  CHECK(quote_plain("a\nb") == R"("a\nb")");
  CHECK(quote_plain("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
  CHECK(quote_plain(std::string(100, 'q')) == quote_excerpt(std::string(100, 'q')));
}

TEST_CASE("describe_unprintable names the first control character or bad byte", "[detail][quote]") {
  CHECK(describe_unprintable("printable text, caf\xc3\xa9") == "");
  CHECK(describe_unprintable("abc\ndef") == "contains a control character (U+000A) at byte 3");
  CHECK(describe_unprintable(std::string("\0", 1)) == "contains a control character (U+0000) at byte 0");
  CHECK(describe_unprintable("del\x7f") == "contains a control character (U+007F) at byte 3");
  CHECK(describe_unprintable("x\xc2\x85") == "contains a control character (U+0085) at byte 1");
  CHECK(describe_unprintable("ab\xff") == "is not valid UTF-8 at byte 2");
  CHECK(describe_unprintable("ab\xe2\x82") == "is not valid UTF-8 at byte 2");  // cut short
  CHECK(liftoff::detail::code_point_name(0x10ffff) == "U+10FFFF");
  CHECK(liftoff::detail::find_nul(std::string("ab\0", 3)) == std::optional<std::size_t>(2));
  CHECK_FALSE(liftoff::detail::find_nul("abc").has_value());
}
