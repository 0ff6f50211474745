#include "core/content_decoder.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

namespace sluice {
namespace {

std::string Gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 19);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string Lines(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "{\"ad_id\":" + std::to_string(i) + ",\"event\":\"start\"}\n";
  return s;
}

TEST(ContentDecoderTest, ParsesTheEncodingsItDecodesAndNothingElse) {
  EXPECT_EQ(ParseContentEncoding(""), ContentEncoding::kIdentity);
  EXPECT_EQ(ParseContentEncoding("identity"), ContentEncoding::kIdentity);
  EXPECT_EQ(ParseContentEncoding(" GZIP "), ContentEncoding::kGzip);
  EXPECT_EQ(ParseContentEncoding("x-gzip"), ContentEncoding::kGzip);
  EXPECT_EQ(ParseContentEncoding("zstd"), ContentEncoding::kZstd);
  EXPECT_EQ(ParseContentEncoding("br"), std::nullopt);
  EXPECT_EQ(ParseContentEncoding("deflate"), std::nullopt);
  EXPECT_EQ(ParseContentEncoding("gzip, zstd"), std::nullopt);
}

TEST(ContentDecoderTest, GzipAndZstdBodiesDecodeToTheOriginal) {
  std::string body = Lines(20000);  // ~700 KB: many output buffers
  auto gz = DecodeContent(ContentEncoding::kGzip, Gzip(body), body.size());
  ASSERT_TRUE(gz.ok()) << gz.status().ToString();
  EXPECT_EQ(*gz, body);
  auto zs = DecodeContent(ContentEncoding::kZstd, Zstd(body), body.size());
  ASSERT_TRUE(zs.ok()) << zs.status().ToString();
  EXPECT_EQ(*zs, body);
}

TEST(ContentDecoderTest, BodiesArriveInPiecesOfAnySize) {
  std::string body = Lines(3000);
  for (ContentEncoding e : {ContentEncoding::kGzip, ContentEncoding::kZstd}) {
    std::string wire = e == ContentEncoding::kGzip ? Gzip(body) : Zstd(body);
    std::string out;
    auto d = ContentDecoder::Create(e, body.size(), &out);
    for (size_t i = 0; i < wire.size(); i += 7) ASSERT_TRUE(d->Feed(std::string_view(wire).substr(i, 7)).ok());
    ASSERT_TRUE(d->Finish().ok());
    EXPECT_EQ(out, body);
  }
}

TEST(ContentDecoderTest, ConcatenatedGzipMembersAreOneBody) {
  auto r = DecodeContent(ContentEncoding::kGzip, Gzip("a\n") + Gzip("b\n"), 100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "a\nb\n");
}

TEST(ContentDecoderTest, ABombStopsAtTheLimitWithoutDecodingTheRest) {
  std::string zeros(64 << 20, '\0');  // 64 MiB that compress to ~64 KB (gzip) or ~2 KB (zstd)
  for (ContentEncoding e : {ContentEncoding::kGzip, ContentEncoding::kZstd}) {
    std::string wire = e == ContentEncoding::kGzip ? Gzip(zeros) : Zstd(zeros);
    ASSERT_LT(wire.size(), 100u << 10);
    std::string out;
    auto d = ContentDecoder::Create(e, 1 << 20, &out);
    Status st = d->Feed(wire);
    EXPECT_FALSE(st.ok());
    EXPECT_TRUE(d->over_limit());
    EXPECT_NE(st.message().find("over the limit of 1048576 bytes"), std::string::npos) << st.message();
    EXPECT_LE(out.size(), 1u << 20) << "nothing past the limit is kept";
    EXPECT_FALSE(d->Feed("more").ok()) << "a failed decoder stays failed";
  }
}

TEST(ContentDecoderTest, ABodyExactlyAtTheLimitIsAccepted) {
  std::string body = Lines(100);
  EXPECT_TRUE(DecodeContent(ContentEncoding::kZstd, Zstd(body), body.size()).ok());
  EXPECT_TRUE(DecodeContent(ContentEncoding::kIdentity, body, body.size()).ok());
  auto over = DecodeContent(ContentEncoding::kIdentity, body, body.size() - 1);
  EXPECT_FALSE(over.ok());
}

TEST(ContentDecoderTest, TruncatedAndCorruptBodiesAreInvalid) {
  std::string body = Lines(1000);
  std::string gz = Gzip(body), zs = Zstd(body);
  auto cut_gz = DecodeContent(ContentEncoding::kGzip, gz.substr(0, gz.size() / 2), 1 << 20);
  EXPECT_TRUE(cut_gz.status().IsInvalid());
  EXPECT_NE(cut_gz.status().message().find("truncated"), std::string::npos);
  auto cut_zs = DecodeContent(ContentEncoding::kZstd, zs.substr(0, zs.size() / 2), 1 << 20);
  EXPECT_TRUE(cut_zs.status().IsInvalid());
  EXPECT_NE(cut_zs.status().message().find("truncated"), std::string::npos);
  EXPECT_TRUE(DecodeContent(ContentEncoding::kGzip, body, 1 << 20).status().IsInvalid()) << "plain text is not gzip";
  EXPECT_TRUE(DecodeContent(ContentEncoding::kZstd, body, 1 << 20).status().IsInvalid());
}

TEST(ContentDecoderTest, AnEmptyBodyDecodesToNothing) {
  for (ContentEncoding e : {ContentEncoding::kIdentity, ContentEncoding::kGzip, ContentEncoding::kZstd}) {
    auto r = DecodeContent(e, "", 10);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "");
  }
}

}  // namespace
}  // namespace sluice
