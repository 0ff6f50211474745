// The signer against published vectors: AWS's SigV4 test suite (aws-sig-v4-test-suite, 2015-08-30:
// AKIDEXAMPLE, region us-east-1, service "service") and the S3 API reference's header-based-auth examples
// (examplebucket, AKIAIOSFODNN7EXAMPLE, 20130524T000000Z). Expected values are the documents', not outputs
// of this code: a failure means the signer is wrong.
#include "landing/sigv4.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::sigv4 {
namespace {

const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
// The S3 examples' secret has '/' where the suite's has '+'.
const Credentials kS3Doc{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const TimePoint kUnused{};  // every request below carries its own x-amz-date

Request SuiteRequest(std::string method, std::string path, std::vector<std::pair<std::string, std::string>> query = {},
                     std::vector<std::pair<std::string, std::string>> extra_headers = {}) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  for (auto& h : extra_headers) r.headers.push_back(std::move(h));
  return r;
}

std::string SuiteAuthorization(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

Signed SignSuite(Request r, const Credentials& c = kSuite) {
  return Sign(std::move(r), c, "us-east-1", "service", kUnused);
}

TEST(SigV4Suite, GetVanillaWithItsCanonicalRequestAndStringToSign) {
  const Signed s = SignSuite(SuiteRequest("GET", "/"));
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization,
            SuiteAuthorization("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
  // The date came from the request, so only Authorization is left to add.
  ASSERT_EQ(s.headers_to_add.size(), 1u);
  EXPECT_EQ(s.headers_to_add[0].first, "Authorization");
}

TEST(SigV4Suite, GetVanillaQueryOrderKeyCaseSortsTheQuery) {
  const Signed s = SignSuite(SuiteRequest("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}));
  EXPECT_EQ(s.canonical_request.substr(0, s.canonical_request.find("\nhost")), "GET\n/\nParam1=value1&Param2=value2");
  EXPECT_EQ(s.string_to_sign.substr(s.string_to_sign.rfind('\n') + 1),
            "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  EXPECT_EQ(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Suite, QueryVectors) {
  EXPECT_EQ(SignSuite(SuiteRequest("GET", "/", {{"Param1", "value1"}})).signature,
            "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb");  // get-vanilla-empty-query-key
  const std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  EXPECT_EQ(SignSuite(SuiteRequest("GET", "/", {{unreserved, unreserved}})).signature,
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");  // get-vanilla-query-unreserved
  EXPECT_EQ(SignSuite(SuiteRequest("GET", "/", {{"\xE1\x88\xB4", "bar"}})).signature,
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");  // get-vanilla-utf8-query
  // get-vanilla-query-order-encoded: sorting is by the encoded names ("%E1..." before "Param").
  EXPECT_EQ(
      SignSuite(SuiteRequest("GET", "/", {{"Param-3", "Value3"}, {"Param", "Value2"}, {"\xE1\x88\xB4", "Value1"}}))
          .signature,
      "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac");
  EXPECT_EQ(SignSuite(SuiteRequest("POST", "/", {{"Param1", "value1"}})).signature,
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");  // post-vanilla-query
}

TEST(SigV4Suite, PathVectors) {
  EXPECT_EQ(SignSuite(SuiteRequest("POST", "/")).signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");  // post-vanilla
  EXPECT_EQ(SignSuite(SuiteRequest("GET", "/\xE1\x88\xB4")).signature,
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");  // get-utf8
  EXPECT_EQ(
      SignSuite(SuiteRequest("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")).signature,
      "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");  // get-unreserved
}

TEST(SigV4Suite, HeaderVectors) {
  const Signed dup = SignSuite(
      SuiteRequest("GET", "/", {}, {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}));
  EXPECT_NE(dup.canonical_request.find("\nmy-header1:value2,value2,value1\n"), std::string::npos);
  EXPECT_EQ(dup.authorization, SuiteAuthorization("host;my-header1;x-amz-date",
                                                  "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"));

  const Signed trim =
      SignSuite(SuiteRequest("GET", "/", {}, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}));
  EXPECT_NE(trim.canonical_request.find("\nmy-header1:value1\nmy-header2:\"a b c\"\n"), std::string::npos);
  EXPECT_EQ(trim.signature, "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");

  EXPECT_EQ(SignSuite(SuiteRequest("POST", "/", {}, {{"My-Header1", "value1"}})).signature,
            "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c");  // post-header-key-sort
}

TEST(SigV4Suite, PostXWwwFormUrlencodedSignsTheBodyHashAndContentType) {
  Request r = SuiteRequest("POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}});
  r.payload_hash = Sha256Hex("Param1=value1");
  EXPECT_EQ(r.payload_hash, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  const Signed s = SignSuite(r);
  EXPECT_EQ(s.string_to_sign.substr(s.string_to_sign.rfind('\n') + 1),
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  EXPECT_EQ(s.authorization, SuiteAuthorization("content-type;host;x-amz-date",
                                                "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST(SigV4Suite, PostStsHeaderBeforeSignsTheSessionToken) {
  Credentials c = kSuite;
  c.session_token =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuw"
      "thAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQc"
      "HNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/"
      "oLxBA==";
  const Signed s = SignSuite(SuiteRequest("POST", "/"), c);
  EXPECT_EQ(s.signed_headers, "host;x-amz-date;x-amz-security-token");
  EXPECT_EQ(s.signature, "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead");
  ASSERT_EQ(s.headers_to_add.size(), 2u);
  EXPECT_EQ(s.headers_to_add[0].first, "x-amz-security-token");
}

Request S3DocRequest(std::string method, std::string path, std::vector<std::pair<std::string, std::string>> query,
                     std::vector<std::pair<std::string, std::string>> extra, std::string payload_hash) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-content-sha256", payload_hash}};
  for (auto& h : extra) r.headers.push_back(std::move(h));
  r.payload_hash = std::move(payload_hash);
  return r;
}

TEST(SigV4S3Doc, GetObjectWithRange) {
  const Signed s = Sign(S3DocRequest("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}}, std::string(kEmptyPayloadHash)),
                        kS3Doc, "us-east-1", "s3", kUnused);
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Doc, PutObjectEncodesTheDollarInTheKey) {
  const std::string hash = Sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const Signed s = Sign(
      S3DocRequest("PUT", "/test$file.text", {},
                   {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}}, hash),
      kS3Doc, "us-east-1", "s3", kUnused);
  EXPECT_EQ(s.canonical_request.substr(0, 22), "PUT\n/test%24file.text\n");
  EXPECT_EQ(s.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(s.string_to_sign.substr(s.string_to_sign.rfind('\n') + 1),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3Doc, GetBucketLifecycleAndListObjects) {
  const std::string empty(kEmptyPayloadHash);
  EXPECT_EQ(
      Sign(S3DocRequest("GET", "/", {{"lifecycle", ""}}, {}, empty), kS3Doc, "us-east-1", "s3", kUnused).signature,
      "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  EXPECT_EQ(Sign(S3DocRequest("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {}, empty), kS3Doc, "us-east-1", "s3",
                 kUnused)
                .signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, DateComesFromTheClockWhenTheRequestHasNone) {
  Request r;
  r.headers = {{"host", "127.0.0.1:9000"}};
  const TimePoint t = FromUnixSeconds(1369353600);  // 2013-05-24T00:00:00Z
  const Signed s = Sign(r, kS3Doc, "us-east-1", "s3", t);
  EXPECT_EQ(s.amz_date, "20130524T000000Z");
  ASSERT_EQ(s.headers_to_add.size(), 2u);
  EXPECT_EQ(s.headers_to_add[0], (std::pair<std::string, std::string>{"x-amz-date", "20130524T000000Z"}));
  EXPECT_EQ(s.signed_headers, "host;x-amz-date");
  EXPECT_NE(s.authorization.find("/20130524/us-east-1/s3/aws4_request, "), std::string::npos);
}

TEST(SigV4, UriEncodeKeepsOnlyUnreservedAndOptionallySlash) {
  EXPECT_EQ(UriEncode("a b/c+d=~", true), "a%20b/c%2Bd%3D~");
  EXPECT_EQ(UriEncode("a b/c+d=~", false), "a%20b%2Fc%2Bd%3D~");
  EXPECT_EQ(UriEncode("dt=2024-01-01/x.ndjson.zst", true), "dt%3D2024-01-01/x.ndjson.zst");
}

TEST(SigV4, SigningKeyDependsOnEveryScopePart) {
  const auto k = SigningKey("secret", "20150830", "us-east-1", "s3");
  EXPECT_NE(k, SigningKey("secret", "20150831", "us-east-1", "s3"));
  EXPECT_NE(k, SigningKey("secret", "20150830", "auto", "s3"));
  EXPECT_NE(k, SigningKey("secret", "20150830", "us-east-1", "service"));
}

}  // namespace
}  // namespace sluice::sigv4
