#include <liftoff/aws/credentials.hpp>

#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <ctime>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using liftoff::error;
using liftoff::aws::credentials_options;
using liftoff::test::net_exchange;
using liftoff::test::net_server_request;
using liftoff::test::net_test_server;
using liftoff::test::temp_dir;
using liftoff::test::write_file;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// A home directory of its own and an empty environment: the real ~/.aws and AWS_* never count.
struct sandbox {
  temp_dir home{"liftoff-aws-creds"};
  credentials_options o;
  sandbox() {
    o.environment.emplace();
    o.home = home.path();
    o.use_instance_metadata = false;
    o.metadata_timeout = 500ms;
    o.client.backoff_base = 5ms;
  }
  void set(std::string const& name, std::string const& value) { (*o.environment)[name] = value; }
  void credentials_file(std::string const& text) { write_file(home / ".aws" / "credentials", text); }
  void config_file(std::string const& text) { write_file(home / ".aws" / "config", text); }
};

std::string iso8601(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string credentials_json(std::string const& id, std::string const& secret, std::string const& token,
                             std::chrono::system_clock::time_point expires) {
  return R"({"Code":"Success","AccessKeyId":")" + id + R"(","SecretAccessKey":")" + secret + R"(","Token":")" +
         token + R"(","Expiration":")" + iso8601(expires) + R"("})";
}

std::string assume_role_xml(std::chrono::system_clock::time_point expires) {
  return R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/train/sess</Arn>
      <AssumedRoleId>AROA123EXAMPLE123:sess</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAASSUMED</AccessKeyId>
      <SecretAccessKey>assumed/secret/KEY</SecretAccessKey>
      <SessionToken>assumed-session-token</SessionToken>
      <Expiration>)" +
         iso8601(expires) + R"(</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>)";
}

/// Records requests for checks after the fact.
struct recorder {
  std::mutex m;
  std::vector<net_server_request> seen;
  void add(net_server_request const& r) {
    std::lock_guard lock(m);
    seen.push_back(r);
  }
  std::vector<net_server_request> all() {
    std::lock_guard lock(m);
    return seen;
  }
};

/// A container credentials endpoint at /creds that wants `token` as Authorization.
std::unique_ptr<net_test_server> container_server(std::string token, recorder& rec) {
  return net_test_server::tcp([token, &rec](net_exchange& ex) {
    rec.add(ex.request());
    if (ex.request().target != "/creds") return ex.respond(404);
    if (ex.request().header("authorization") != token) return ex.respond(401, R"({"message":"bad token"})");
    ex.respond(200, credentials_json("ASIACONTAINER", "container/secret", "container-token",
                                     std::chrono::system_clock::now() + 6h));
  });
}

/// An IMDSv2 endpoint with role `role-a`.
std::unique_ptr<net_test_server> imds_server(recorder& rec) {
  return net_test_server::tcp([&rec](net_exchange& ex) {
    auto const& r = ex.request();
    rec.add(r);
    if (r.method == "PUT" && r.target == "/latest/api/token") {
      if (r.header("x-aws-ec2-metadata-token-ttl-seconds") != "21600") return ex.respond(400);
      return ex.respond(200, "imds-session-token");
    }
    if (r.header("x-aws-ec2-metadata-token") != "imds-session-token") return ex.respond(401);
    if (r.method == "GET" && r.target == "/latest/meta-data/iam/security-credentials/")
      return ex.respond(200, "role-a\n");
    if (r.method == "GET" && r.target == "/latest/meta-data/iam/security-credentials/role-a")
      return ex.respond(200, credentials_json("ASIAIMDS", "imds/secret", "imds-token",
                                              std::chrono::system_clock::now() + 6h));
    ex.respond(404);
  });
}

}  // namespace

TEST_CASE("credentials from the environment", "[aws-credentials]") {
  sandbox s;
  s.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  s.set("AWS_SECRET_ACCESS_KEY", "env/secret/KEY");
  s.set("AWS_SESSION_TOKEN", "env-session");
  auto c = liftoff::aws::default_credentials_chain(s.o)();
  REQUIRE(c.has_value());
  CHECK(c->access_key_id == "AKIDENV");
  CHECK(c->secret_access_key == "env/secret/KEY");
  CHECK(c->session_token == "env-session");
  CHECK(!c->expiration);
  CHECK(contains(c->source, "environment"));

  sandbox half;
  half.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  half.credentials_file("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file/secret\n");
  auto r = liftoff::aws::default_credentials_chain(half.o)();
  REQUIRE(!r.has_value());  // a half-set environment does not fall through to the file
  CHECK(r.error().code == error::unauthorized);
  CHECK(contains(r.error().what(), "AWS_SECRET_ACCESS_KEY"));
}

TEST_CASE("profiles read from both shared files", "[aws-credentials]") {
  sandbox s;
  s.credentials_file(
      "# keys\n"
      "[default]\n"
      "aws_access_key_id = AKIDDEFAULT\n"
      "aws_secret_access_key = default/secret\n"
      "\n"
      "[dev]\n"
      "aws_access_key_id=AKIDDEV\n"
      "aws_secret_access_key=dev/secret\n"
      "region = eu-west-1\n");
  s.config_file(
      "[default]\n"
      "region = us-east-2\n"
      "[profile dev]\n"
      "region = us-west-2\n"
      "aws_access_key_id = AKIDFROMCONFIG\n"
      "output = json\n"
      "s3 =\n"
      "  max_concurrent_requests = 20\n"
      "  max_queue_size = 1000\n"
      "cli_pager=\n"
      "[profile  dev]\n"
      "output = text\n");

  auto dev = liftoff::aws::load_profile(s.o, "dev");
  REQUIRE(dev.has_value());
  REQUIRE(dev->has_value());
  auto const& p = **dev;
  CHECK(p.get("region") == "us-west-2");                // the config file wins for settings
  CHECK(p.get("aws_access_key_id") == "AKIDDEV");       // the credentials file for keys
  CHECK(p.get("aws_secret_access_key") == "dev/secret");
  CHECK(p.get("output") == "text");                     // a repeated section is merged, the last value counts
  CHECK(p.get("max_concurrent_requests").empty());     // nested settings are not keys of the profile
  CHECK(p.get("s3").empty());
  CHECK(p.credentials_file == s.home / ".aws" / "credentials");
  CHECK(p.config_file == s.home / ".aws" / "config");

  auto def = liftoff::aws::load_profile(s.o, "default");
  REQUIRE(def.has_value());
  REQUIRE(def->has_value());
  CHECK((*def)->get("region") == "us-east-2");

  auto none = liftoff::aws::load_profile(s.o, "nope");
  REQUIRE(none.has_value());
  CHECK(!none->has_value());

  auto c = liftoff::aws::default_credentials_chain(s.o)();
  REQUIRE(c.has_value());
  CHECK(c->access_key_id == "AKIDDEFAULT");
  CHECK(contains(c->source, "profile `default`"));

  s.set("AWS_PROFILE", "dev");
  auto via_env = liftoff::aws::default_credentials_chain(s.o)();
  REQUIRE(via_env.has_value());
  CHECK(via_env->access_key_id == "AKIDDEV");
  CHECK(contains(via_env->source, (s.home / ".aws" / "credentials").string()));

  s.o.profile = "default";  // the program's choice beats AWS_PROFILE
  auto chosen = liftoff::aws::default_credentials_chain(s.o)();
  REQUIRE(chosen.has_value());
  CHECK(chosen->access_key_id == "AKIDDEFAULT");
}

TEST_CASE("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the shared files", "[aws-credentials]") {
  sandbox s;
  s.credentials_file("[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = home/secret\n");
  write_file(s.home / "elsewhere" / "creds", "[ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = ci/secret\n");
  write_file(s.home / "elsewhere" / "conf", "[profile ci]\nregion = ap-south-2\n");
  s.set("AWS_SHARED_CREDENTIALS_FILE", (s.home / "elsewhere" / "creds").string());
  s.set("AWS_CONFIG_FILE", (s.home / "elsewhere" / "conf").string());
  s.set("AWS_PROFILE", "ci");
  auto c = liftoff::aws::default_credentials_chain(s.o)();
  REQUIRE(c.has_value());
  CHECK(c->access_key_id == "AKIDCI");
  auto region = liftoff::aws::resolve_region(s.o);
  REQUIRE(region.has_value());
  CHECK(*region == "ap-south-2");

  s.set("AWS_PROFILE", "default");  // the moved file has no such profile: nothing from ~/.aws
  auto none = liftoff::aws::default_credentials_chain(s.o)();
  REQUIRE(!none.has_value());
  CHECK(contains(none.error().what(), (s.home / "elsewhere" / "creds").string()));
}

TEST_CASE("a malformed shared file is reported with its file and line", "[aws-credentials]") {
  sandbox s;
  s.credentials_file("[default]\naws_access_key_id = AKID\n\nthis line has no equals sign\n");
  auto p = liftoff::aws::load_profile(s.o, "default");
  REQUIRE(!p.has_value());
  CHECK(p.error().code == error::parse_error);
  CHECK(contains(p.error().what(), (s.home / ".aws" / "credentials").string() + ":4"));

  sandbox secret_line;
  secret_line.credentials_file("[default]\naws_access_key_id = AKID\naws_secret_access_key SECRETVALUE0123\n");
  auto q = liftoff::aws::load_profile(secret_line.o, "default");
  REQUIRE(!q.has_value());
  CHECK(contains(q.error().what(), ":3"));
  CHECK(!contains(q.error().what(), "SECRETVALUE0123"));

  sandbox t;
  t.config_file("# settings\n[default]\nregion = us-east-1\n[profile broken\nregion = x\n");
  auto c = liftoff::aws::default_credentials_chain(t.o)();
  REQUIRE(!c.has_value());
  CHECK(c.error().code == error::parse_error);
  CHECK(contains(c.error().what(), (t.home / ".aws" / "config").string() + ":4"));
}

TEST_CASE("a profile that lacks its secret fails at once, without the other sources", "[aws-credentials]") {
  sandbox s;
  s.credentials_file("[default]\naws_access_key_id = AKIDLONELY\n");
  recorder rec;
  auto server = container_server("", rec);
  s.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server->url() + "/creds");
  auto c = liftoff::aws::default_credentials_chain(s.o)();
  REQUIRE(!c.has_value());
  CHECK(c.error().code == error::unauthorized);
  CHECK(contains(c.error().what(), "aws_secret_access_key"));
  CHECK(contains(c.error().what(), "profile `default`"));
  CHECK(server->requests() == 0);

  sandbox only_secret;
  only_secret.credentials_file("[default]\naws_secret_access_key = only/secret/VALUE123\n");
  auto r = liftoff::aws::default_credentials_chain(only_secret.o)();
  REQUIRE(!r.has_value());
  CHECK(contains(r.error().what(), "aws_access_key_id"));
  CHECK(!contains(r.error().what(), "only/secret/VALUE123"));

  sandbox missing;
  missing.set("AWS_PROFILE", "ghost");
  auto g = liftoff::aws::default_credentials_chain(missing.o)();
  REQUIRE(!g.has_value());
  CHECK(contains(g.error().what(), "profile `ghost` (AWS_PROFILE)"));
}

TEST_CASE("the chain's order: environment, shared files, container, instance metadata", "[aws-credentials]") {
  recorder container_rec, imds_rec;
  auto container = container_server("Bearer container-auth", container_rec);
  auto imds = imds_server(imds_rec);
  auto setup = [&](sandbox& s, bool env, bool file, bool cont) {
    if (env) {
      s.set("AWS_ACCESS_KEY_ID", "AKIDENV");
      s.set("AWS_SECRET_ACCESS_KEY", "env/secret");
    }
    if (file) s.credentials_file("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file/secret\n");
    if (cont) {
      s.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", container->url() + "/creds");
      s.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer container-auth");
    }
    s.o.use_instance_metadata = true;
    s.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds->url());
  };
  auto key_of = [](sandbox& s) {
    auto c = liftoff::aws::default_credentials_chain(s.o)();
    INFO((c ? std::string() : c.error().what()));
    REQUIRE(c.has_value());
    return c->access_key_id;
  };
  {
    sandbox s;
    setup(s, true, true, true);
    CHECK(key_of(s) == "AKIDENV");
  }
  {
    sandbox s;
    setup(s, false, true, true);
    CHECK(key_of(s) == "AKIDFILE");
  }
  CHECK(container_rec.all().empty());
  CHECK(imds_rec.all().empty());
  {
    sandbox s;
    setup(s, false, false, true);
    CHECK(key_of(s) == "ASIACONTAINER");
  }
  CHECK(imds_rec.all().empty());
  {
    sandbox s;
    setup(s, false, false, false);
    CHECK(key_of(s) == "ASIAIMDS");
  }
}

TEST_CASE("container credentials carry the authorization token, from the variable or its file", "[aws-credentials]") {
  recorder rec;
  auto server = container_server("token-from-file-0123", rec);
  sandbox s;
  s.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server->url() + "/creds");
  write_file(s.home / "token", "token-from-file-0123\n");
  s.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (s.home / "token").string());
  s.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-a-file-is-set");
  auto c = liftoff::aws::default_credentials_chain(s.o)();
  REQUIRE(c.has_value());
  CHECK(c->access_key_id == "ASIACONTAINER");
  CHECK(c->secret_access_key == "container/secret");
  CHECK(c->session_token == "container-token");
  REQUIRE(c->expiration);
  CHECK(!c->expires_within(5h));
  CHECK(c->expires_within(7h));
  CHECK(contains(c->source, "container credentials"));
  REQUIRE(rec.all().size() == 1);
  CHECK(rec.all()[0].header("authorization") == "token-from-file-0123");

  sandbox wrong;
  wrong.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server->url() + "/creds");
  wrong.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-token-value-42");
  auto r = liftoff::aws::default_credentials_chain(wrong.o)();
  REQUIRE(!r.has_value());
  CHECK(r.error().code == error::unauthorized);
  CHECK(contains(r.error().what(), "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
  CHECK(!contains(r.error().what(), "wrong-token-value-42"));

  // The relative form is served by the ECS agent's address; on this machine nothing answers there, quickly.
  sandbox relative;
  relative.o.metadata_timeout = 100ms;
  relative.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
  relative.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server->url() + "/creds");
  auto const start = std::chrono::steady_clock::now();
  auto unreachable = liftoff::aws::default_credentials_chain(relative.o)();
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  REQUIRE(!unreachable.has_value());
  CHECK(contains(unreachable.error().what(), "http://169.254.170.2/v2/credentials/abc"));
  CHECK(contains(unreachable.error().what(), "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));

  sandbox remote;
  remote.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds");
  auto refused = liftoff::aws::default_credentials_chain(remote.o)();
  REQUIRE(!refused.has_value());
  CHECK(contains(refused.error().what(), "https"));
}

TEST_CASE("instance metadata is read with an IMDSv2 session token", "[aws-credentials]") {
  recorder rec;
  auto server = imds_server(rec);
  sandbox s;
  s.o.use_instance_metadata = true;
  s.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server->url() + "/");
  auto c = liftoff::aws::default_credentials_chain(s.o)();
  REQUIRE(c.has_value());
  CHECK(c->access_key_id == "ASIAIMDS");
  CHECK(c->session_token == "imds-token");
  CHECK(contains(c->source, "role `role-a`"));
  auto const seen = rec.all();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].method == "PUT");
  CHECK(seen[0].target == "/latest/api/token");
  CHECK(seen[1].target == "/latest/meta-data/iam/security-credentials/");
  CHECK(seen[2].target == "/latest/meta-data/iam/security-credentials/role-a");
  CHECK(seen[1].header("x-aws-ec2-metadata-token") == "imds-session-token");
  CHECK(seen[2].header("x-aws-ec2-metadata-token") == "imds-session-token");

  sandbox disabled;
  disabled.o.use_instance_metadata = true;
  disabled.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server->url());
  disabled.set("AWS_EC2_METADATA_DISABLED", "true");
  auto none = liftoff::aws::default_credentials_chain(disabled.o)();
  REQUIRE(!none.has_value());
  CHECK(contains(none.error().what(), "AWS_EC2_METADATA_DISABLED"));
  CHECK(rec.all().size() == 3);
}

TEST_CASE("without credentials the message lists every place looked, and no secret", "[aws-credentials]") {
  sandbox s;
  s.o.use_instance_metadata = true;
  s.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1");
  s.config_file("[default]\nregion = us-east-1\n");
  s.set("AWS_SESSION_TOKEN", "dangling-session-token-123");
  auto const start = std::chrono::steady_clock::now();
  auto c = liftoff::aws::default_credentials_chain(s.o)();
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  REQUIRE(!c.has_value());
  CHECK(c.error().code == error::unauthorized);
  auto const msg = c.error().what();
  CHECK(contains(msg, "no AWS credentials"));
  CHECK(contains(msg, "AWS_ACCESS_KEY_ID"));
  CHECK(contains(msg, (s.home / ".aws" / "credentials").string()));
  CHECK(contains(msg, "profile `default`"));
  CHECK(contains(msg, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
  CHECK(contains(msg, "http://127.0.0.1:1"));
  CHECK(!contains(msg, "dangling-session-token-123"));
}

TEST_CASE("a role profile is assumed through STS with its source profile's keys, and cached", "[aws-credentials]") {
  recorder rec;
  std::atomic<int> lifetime_s{3600};
  auto sts = net_test_server::tcp([&](net_exchange& ex) {
    rec.add(ex.request());
    ex.respond(200, assume_role_xml(std::chrono::system_clock::now() + std::chrono::seconds(lifetime_s.load())),
               {{"Content-Type", "text/xml"}});
  });
  sandbox s;
  s.credentials_file("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base/secret/KEY\n");
  s.config_file(
      "[profile train]\n"
      "role_arn = arn:aws:iam::123456789012:role/train\n"
      "source_profile = base\n"
      "role_session_name = sess\n"
      "external_id = ext-42\n"
      "duration_seconds = 1800\n"
      "region = eu-central-1\n");
  s.set("AWS_PROFILE", "train");
  s.set("AWS_ENDPOINT_URL_STS", sts->url());
  auto chain = liftoff::aws::default_credentials_chain(s.o);

  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      auto c = chain();
      if (c && c->access_key_id == "ASIAASSUMED" && c->session_token == "assumed-session-token") ++ok;
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 4);
  auto c = chain();
  REQUIRE(c.has_value());
  CHECK(contains(c->source, "AssumeRole arn:aws:iam::123456789012:role/train"));
  REQUIRE(c->expiration);
  auto seen = rec.all();
  REQUIRE(seen.size() == 1);  // cached: one STS call for five uses
  auto const& req = seen[0];
  CHECK(req.method == "POST");
  CHECK(contains(req.header("authorization"), "Credential=AKIDBASE/"));
  CHECK(contains(req.header("authorization"), "/eu-central-1/sts/aws4_request"));
  CHECK(contains(req.body, "Action=AssumeRole"));
  CHECK(contains(req.body, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ftrain"));
  CHECK(contains(req.body, "RoleSessionName=sess"));
  CHECK(contains(req.body, "ExternalId=ext-42"));
  CHECK(contains(req.body, "DurationSeconds=1800"));

  // Credentials that expire within five minutes are asked for again.
  lifetime_s = 120;
  auto chain2 = liftoff::aws::default_credentials_chain(s.o);
  REQUIRE(chain2().has_value());
  REQUIRE(chain2().has_value());
  CHECK(rec.all().size() == 3);
}

TEST_CASE("a role profile with credential_source = Environment", "[aws-credentials]") {
  recorder rec;
  auto sts = net_test_server::tcp([&](net_exchange& ex) {
    rec.add(ex.request());
    ex.respond(200, assume_role_xml(std::chrono::system_clock::now() + 1h));
  });
  sandbox s;
  s.config_file("[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\ncredential_source = Environment\n");
  s.set("AWS_ACCESS_KEY_ID", "AKIDENVSOURCE");
  s.set("AWS_SECRET_ACCESS_KEY", "env/source/secret");
  s.set("AWS_ENDPOINT_URL", sts->url());
  s.o.profile = "ci";
  auto c = liftoff::aws::default_credentials_chain(s.o)();
  REQUIRE(c.has_value());
  CHECK(c->access_key_id == "ASIAASSUMED");
  REQUIRE(rec.all().size() == 1);
  CHECK(contains(rec.all()[0].header("authorization"), "Credential=AKIDENVSOURCE/"));
  CHECK(contains(rec.all()[0].header("authorization"), "/us-east-1/sts/"));

  sandbox bad;
  bad.config_file("[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\ncredential_source = Somewhere\n");
  bad.o.profile = "ci";
  auto r = liftoff::aws::default_credentials_chain(bad.o)();
  REQUIRE(!r.has_value());
  CHECK(contains(r.error().what(), "credential_source `Somewhere`"));
}

TEST_CASE("the region: explicit, AWS_REGION, AWS_DEFAULT_REGION, then the profile", "[aws-credentials]") {
  sandbox s;
  s.config_file("[default]\nregion = eu-north-1\n");
  auto r = liftoff::aws::resolve_region(s.o);
  REQUIRE(r.has_value());
  CHECK(*r == "eu-north-1");
  s.set("AWS_DEFAULT_REGION", "ap-southeast-7");
  CHECK(liftoff::aws::resolve_region(s.o).value() == "ap-southeast-7");
  s.set("AWS_REGION", "us-gov-west-1");
  CHECK(liftoff::aws::resolve_region(s.o).value() == "us-gov-west-1");
  CHECK(liftoff::aws::resolve_region(s.o, "cn-north-1").value() == "cn-north-1");

  auto unknown = liftoff::aws::resolve_region(s.o, "us-east-7");
  REQUIRE(!unknown.has_value());
  CHECK(unknown.error().code == error::invalid_spec);
  CHECK(contains(unknown.error().what(), "`us-east-7`"));
  CHECK(contains(unknown.error().what(), "did you mean `us-east-1`"));
  CHECK(contains(unknown.error().what(), "AWS_ENDPOINT_URL_"));
  auto typo = liftoff::aws::resolve_region(s.o, "eu-wset-1");
  REQUIRE(!typo.has_value());
  CHECK(contains(typo.error().what(), "did you mean `eu-west-1`"));

  s.set("AWS_ENDPOINT_URL_SAGEMAKER", "http://127.0.0.1:9");
  CHECK(liftoff::aws::resolve_region(s.o, "us-east-7").value() == "us-east-7");
  auto shapeless = liftoff::aws::resolve_region(s.o, "Local");
  REQUIRE(!shapeless.has_value());
  CHECK(contains(shapeless.error().what(), "does not look like"));

  sandbox none;
  auto missing = liftoff::aws::resolve_region(none.o);
  REQUIRE(!missing.has_value());
  CHECK(contains(missing.error().what(), "AWS_REGION"));
  CHECK(contains(missing.error().what(), "AWS_DEFAULT_REGION"));
  CHECK(contains(missing.error().what(), "profile `default`"));

  for (auto const* known : {"us-east-1", "ca-west-1", "mx-central-1", "ap-east-2", "il-central-1", "cn-northwest-1"})
    CHECK(liftoff::aws::known_region(known));
  CHECK(!liftoff::aws::known_region("us-east-3"));
  CHECK(!liftoff::aws::known_region(""));
}

TEST_CASE("endpoint URLs: per service, global, profile, then the AWS pattern", "[aws-credentials]") {
  namespace services = liftoff::aws::services;
  sandbox s;
  CHECK(liftoff::aws::endpoint_url(s.o, services::sagemaker(), "eu-west-1") ==
        "https://api.sagemaker.eu-west-1.amazonaws.com");
  CHECK(liftoff::aws::endpoint_url(s.o, services::ecr(), "cn-north-1") == "https://api.ecr.cn-north-1.amazonaws.com.cn");
  CHECK(liftoff::aws::endpoint_url(s.o, services::logs(), "us-east-1") == "https://logs.us-east-1.amazonaws.com");
  CHECK(liftoff::aws::endpoint_url(s.o, services::sts(), "us-east-2") == "https://sts.us-east-2.amazonaws.com");

  s.config_file("[default]\nendpoint_url = http://profile.local:1\n");
  CHECK(liftoff::aws::endpoint_url(s.o, services::ecr(), "us-east-1") == "http://profile.local:1");
  s.set("AWS_ENDPOINT_URL", "http://global.local:2/");
  CHECK(liftoff::aws::endpoint_url(s.o, services::ecr(), "us-east-1") == "http://global.local:2");
  s.set("AWS_ENDPOINT_URL_SAGEMAKER", "http://sagemaker.local:3");
  s.set("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://logs.local:4");
  CHECK(liftoff::aws::endpoint_url(s.o, services::sagemaker(), "us-east-1") == "http://sagemaker.local:3");
  CHECK(liftoff::aws::endpoint_url(s.o, services::logs(), "us-east-1") == "http://logs.local:4");
  CHECK(liftoff::aws::endpoint_url(s.o, services::ecr(), "us-east-1") == "http://global.local:2");
  s.set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
  CHECK(liftoff::aws::endpoint_url(s.o, services::sagemaker(), "us-east-1") ==
        "https://api.sagemaker.us-east-1.amazonaws.com");

  CHECK(services::sagemaker().signing_name == "sagemaker");
  CHECK(services::sagemaker().target_prefix == "SageMaker");
  CHECK(services::ecr().target_prefix == "AmazonEC2ContainerRegistry_V20150921");
  CHECK(services::logs().name == "CloudWatch Logs");
  CHECK(services::logs().target_prefix == "Logs_20140328");
  CHECK(services::sts().target_prefix.empty());
}

TEST_CASE("static credentials and expiry margins", "[aws-credentials]") {
  liftoff::aws::credentials c;
  c.access_key_id = "AKIDSTATIC";
  c.secret_access_key = "static/secret";
  auto p = liftoff::aws::static_credentials(c);
  CHECK(p().value().access_key_id == "AKIDSTATIC");
  CHECK(!c.expires_within(24h));
  auto const now = std::chrono::system_clock::now();
  c.expiration = now + 4min;
  CHECK(c.expires_within(5min, now));
  CHECK(!c.expires_within(3min, now));
}
