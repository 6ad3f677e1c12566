#include "support/aws_test_server.hpp"

#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <liftoff/aws/detail/timestamp.hpp>
#include <liftoff/aws/model.hpp>
#include <liftoff/aws/sigv4.hpp>
#include <liftoff/detail/base64.hpp>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

namespace liftoff::test {

namespace json = boost::json;
using clock_type = std::chrono::system_clock;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Scripts

namespace training_scripts {
namespace {
training_step step(std::string status, std::string secondary, std::string message,
                   std::vector<std::string> lines = {}, std::string failure = {}) {
  training_step s;
  s.status = std::move(status);
  s.secondary = std::move(secondary);
  s.message = std::move(message);
  s.log_lines = std::move(lines);
  s.failure_reason = std::move(failure);
  return s;
}
training_script until_training(std::vector<std::string> lines) {
  return {step("InProgress", "Starting", "Preparing the instances for training"),
          step("InProgress", "Downloading", "Downloading the training image"),
          step("InProgress", "Training", "Training image download completed. Training in progress.",
               std::move(lines))};
}
}  // namespace

training_script succeed(std::vector<std::string> lines) {
  auto s = until_training(std::move(lines));
  s.push_back(step("InProgress", "Uploading", "Uploading generated training model"));
  s.push_back(step("Completed", "Completed", "Training job completed"));
  return s;
}

training_script fail(std::string reason, std::vector<std::string> lines) {
  auto s = until_training(std::move(lines));
  s.push_back(step("Failed", "Failed", "Training job failed", {}, std::move(reason)));
  return s;
}

training_script run_until_stopped(std::vector<std::string> lines) { return until_training(std::move(lines)); }

training_script spot_interrupted() {
  auto s = until_training({});
  s.push_back(step("InProgress", "Interrupted", "The managed spot training job was interrupted"));
  s.push_back(step("Stopped", "Interrupted", "The managed spot training job was interrupted",
                   {}, "Training job interrupted: the spot instance was reclaimed"));
  return s;
}
}  // namespace training_scripts

// ---------------------------------------------------------------------------
// The server

namespace {

std::filesystem::path model_path() { return specs_dir() / "sagemaker" / "service-2.json"; }

/// The SageMaker model, loaded once per process; nullptr when absent.
liftoff::aws::service_model const* sagemaker_model() {
  static auto const loaded = liftoff::aws::service_model::load(model_path());
  return loaded ? &*loaded : nullptr;
}

double epoch_now() {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 clock_type::now().time_since_epoch())
                                 .count()) /
         1000.0;
}

std::int64_t epoch_ms(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string random_text(std::mt19937_64& rng, std::size_t n, std::string_view alphabet) {
  std::string out;
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  for (std::size_t i = 0; i < n; ++i) out += alphabet[pick(rng)];
  return out;
}

constexpr std::string_view upper_digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view secret_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";

/// "20240131T120000Z" → the time, or nullopt.
std::optional<clock_type::time_point> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  std::string iso = std::string(s.substr(0, 4)) + "-" + std::string(s.substr(4, 2)) + "-" +
                    std::string(s.substr(6, 2)) + "T" + std::string(s.substr(9, 2)) + ":" +
                    std::string(s.substr(11, 2)) + ":" + std::string(s.substr(13, 2)) + "Z";
  auto t = liftoff::aws::detail::parse_timestamp(iso);
  if (!t) return std::nullopt;
  return clock_type::time_point(std::chrono::seconds(static_cast<std::int64_t>(*t)));
}

struct parsed_authorization {
  std::string access_key_id, date, region, service, signed_headers, signature;
};

/// "AWS4-HMAC-SHA256 Credential=AKID/20240131/us-east-1/sagemaker/aws4_request, SignedHeaders=…, Signature=…"
std::optional<parsed_authorization> parse_authorization(std::string_view v) {
  constexpr std::string_view scheme = "AWS4-HMAC-SHA256 ";
  if (!v.starts_with(scheme)) return std::nullopt;
  v.remove_prefix(scheme.size());
  parsed_authorization a;
  std::string credential;
  while (!v.empty()) {
    auto const comma = v.find(',');
    auto part = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto const eq = part.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    auto const key = part.substr(0, eq);
    auto const value = std::string(part.substr(eq + 1));
    if (key == "Credential") credential = value;
    else if (key == "SignedHeaders") a.signed_headers = value;
    else if (key == "Signature") a.signature = value;
  }
  std::vector<std::string> scope;
  std::stringstream ss(credential);
  for (std::string item; std::getline(ss, item, '/');) scope.push_back(item);
  if (scope.size() != 5 || scope[4] != "aws4_request" || a.signed_headers.empty() || a.signature.empty())
    return std::nullopt;
  a.access_key_id = scope[0];
  a.date = scope[1];
  a.region = scope[2];
  a.service = scope[3];
  return a;
}

struct job_record {
  json::object request;
  training_script script;
  int applied = -1;  ///< index of the last applied step
  clock_type::time_point last_step{};
  double creation = 0;
  std::string status = "InProgress", secondary = "Starting", failure_reason;
  json::array transitions;
  std::optional<double> training_start, training_end;
  double last_modified = 0;
  int stop_phase = 0;  ///< 1: StopTrainingJob received; 2: Stopping reported
  std::string stream;  ///< the log stream, once the job has written to it
  std::vector<std::pair<std::int64_t, std::string>> events;  ///< timestamp (ms), message

  bool ended() const { return status == "Completed" || status == "Failed" || status == "Stopped"; }
};

struct key_record {
  std::string secret, session_token;
  std::optional<clock_type::time_point> expires;
  std::string arn;
};

struct image_record {
  std::string tag, digest;
};

struct answer {
  unsigned status = 200;
  std::string body;
  net_header_list headers;
};

}  // namespace

struct aws_test_server::impl {
  options opts;
  mutable std::mutex m;
  std::unique_ptr<net_test_server> server;
  std::mt19937_64 rng{std::random_device{}()};

  std::map<std::string, key_record> keys;
  std::map<std::string, std::chrono::seconds> roles;
  bool metadata = false;
  std::string container_token, instance_role, imds_token;
  bool expect_auth = false, expect_invalid = false;

  std::map<std::string, training_script> scripts;
  std::map<std::string, job_record> jobs;

  std::set<std::string> repositories;
  std::map<std::string, std::vector<image_record>> images;
  std::string ecr_password;
  std::string proxy_endpoint;

  std::map<std::string, int> throttles, internal_failures;
  std::vector<aws_request> requests;
  std::vector<std::string> violations;
  int request_counter = 0;

  // ---- helpers -----------------------------------------------------------

  std::string request_id() {
    char buf[48];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", ++request_counter);
    return buf;
  }

  answer json_error(unsigned status, std::string code, std::string message) {
    json::object body{{"__type", code}, {"message", message}};
    return {status, json::serialize(body),
            {{"Content-Type", "application/x-amz-json-1.1"}, {"x-amzn-RequestId", request_id()}}};
  }

  answer json_ok(json::value const& body) {
    return {200, json::serialize(body),
            {{"Content-Type", "application/x-amz-json-1.1"}, {"x-amzn-RequestId", request_id()}}};
  }

  std::string xml(boost::property_tree::ptree const& tree) {
    std::ostringstream os;
    boost::property_tree::write_xml(os, tree);
    return os.str();
  }

  answer sts_error(unsigned status, std::string code, std::string message) {
    boost::property_tree::ptree t;
    auto& e = t.put_child("ErrorResponse", {});
    e.put("<xmlattr>.xmlns", "https://sts.amazonaws.com/doc/2011-06-15/");
    e.put("Error.Type", status >= 500 ? "Receiver" : "Sender");
    e.put("Error.Code", code);
    e.put("Error.Message", message);
    e.put("RequestId", request_id());
    return {status, xml(t), {{"Content-Type", "text/xml"}}};
  }

  answer error_for(std::string const& service, unsigned status, std::string code, std::string message) {
    if (service == "sts") return sts_error(status, std::move(code), std::move(message));
    return json_error(status, std::move(code), std::move(message));
  }

  void violation(aws_request const& r, std::string why) {
    violations.push_back(r.method + " " + r.target + (r.operation.empty() ? "" : " (" + r.operation + ")") + ": " +
                         why);
  }

  /// A new temporary key the server accepts until `expires`; its id.
  std::string fresh_temporary_key(clock_type::time_point expires, std::string arn) {
    auto id = "ASIA" + random_text(rng, 16, upper_digits);
    key_record k;
    k.secret = random_text(rng, 40, secret_chars);
    k.session_token = "IQoJb3JpZ2luX2VjE" + random_text(rng, 80, secret_chars);
    k.expires = expires;
    k.arn = std::move(arn);
    keys[id] = k;
    return id;
  }

  // ---- signatures ----------------------------------------------------------

  /// Checks the signature of `r` for `service`; an answer when it is refused.
  std::optional<answer> check_signature(net_server_request const& req, aws_request& r) {
    auto refuse = [&](unsigned status, std::string code, std::string message) -> std::optional<answer> {
      if (!expect_auth) violation(r, "refused: " + code + ": " + message);
      return error_for(r.service, status, std::move(code), std::move(message));
    };
    bool const sts = r.service == "sts";
    auto const authorization = req.header("authorization");
    if (authorization.empty())
      return refuse(sts ? 403 : 400, sts ? "MissingAuthenticationToken" : "MissingAuthenticationTokenException",
                    "Request is missing Authentication Token");
    auto a = parse_authorization(authorization);
    if (!a)
      return refuse(sts ? 403 : 400, sts ? "IncompleteSignature" : "IncompleteSignatureException",
                    "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.");
    r.access_key_id = a->access_key_id;
    auto it = keys.find(a->access_key_id);
    if (it == keys.end())
      return refuse(sts ? 403 : 400, sts ? "InvalidClientTokenId" : "UnrecognizedClientException",
                    "The security token included in the request is invalid.");
    auto const& key = it->second;
    if (key.expires && *key.expires <= clock_type::now())
      return refuse(400, sts ? "ExpiredToken" : "ExpiredTokenException",
                    "The security token included in the request is expired");
    if (!key.session_token.empty() && req.header("x-amz-security-token") != key.session_token)
      return refuse(sts ? 403 : 400, sts ? "InvalidClientTokenId" : "UnrecognizedClientException",
                    "The security token included in the request is invalid.");
    auto const amz_date = req.header("x-amz-date");
    auto const when = parse_amz_date(amz_date);
    if (!when)
      return refuse(400, sts ? "IncompleteSignature" : "IncompleteSignatureException",
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    if (std::chrono::abs(clock_type::now() - *when) > 15min)
      return refuse(sts ? 403 : 400, sts ? "SignatureDoesNotMatch" : "InvalidSignatureException",
                    "Signature expired: " + amz_date + " is now earlier or later than 15 minutes from now.");
    if (a->date != amz_date.substr(0, 8))
      return refuse(403, sts ? "SignatureDoesNotMatch" : "InvalidSignatureException",
                    "Credential should be scoped to a valid date: '" + amz_date.substr(0, 8) + "'.");
    if (a->region != opts.region)
      return refuse(403, sts ? "SignatureDoesNotMatch" : "InvalidSignatureException",
                    "Credential should be scoped to a valid region, not '" + a->region + "'.");
    if (a->service != r.service)
      return refuse(403, sts ? "SignatureDoesNotMatch" : "InvalidSignatureException",
                    "Credential should be scoped to correct service: '" + r.service + "'.");

    // Sign again what was received, with the server's secret, and compare.
    liftoff::aws::http_message m;
    m.method = req.method;
    m.target = req.target;
    m.body = req.body;
    bool sign_body = false;
    std::stringstream names(a->signed_headers);
    for (std::string name; std::getline(names, name, ';');) {
      if (name == "x-amz-date" || name == "x-amz-security-token") continue;  // sign_headers adds them
      if (name == "x-amz-content-sha256") {
        sign_body = true;
        continue;
      }
      auto h = req.headers.find(name);
      if (h == req.headers.end())
        return refuse(403, sts ? "SignatureDoesNotMatch" : "InvalidSignatureException",
                      "The signed header '" + name + "' is not in the request.");
      m.headers.emplace_back(name, h->second);
    }
    liftoff::aws::credentials c;
    c.access_key_id = a->access_key_id;
    c.secret_access_key = key.secret;
    c.session_token = key.session_token;
    liftoff::aws::signing_params p;
    p.region = a->region;
    p.service = a->service;
    p.time = *when;
    p.sign_body = sign_body;
    p.omit_session_token = key.session_token.empty() ? false
                                                     : a->signed_headers.find("x-amz-security-token") ==
                                                           std::string::npos;
    auto signed_ = liftoff::aws::sign_headers(m, c, p);
    if (!signed_ || signed_->signature != a->signature)
      return refuse(403, sts ? "SignatureDoesNotMatch" : "InvalidSignatureException",
                    "The request signature we calculated does not match the signature you provided. Check your "
                    "AWS Secret Access Key and signing method. Consult the service documentation for details.");
    return std::nullopt;
  }

  // ---- faults --------------------------------------------------------------

  std::optional<answer> fault(aws_request const& r) {
    if (auto it = throttles.find(r.operation); it != throttles.end() && it->second > 0) {
      --it->second;
      return error_for(r.service, 400, r.service == "sts" ? "Throttling" : "ThrottlingException", "Rate exceeded");
    }
    if (auto it = internal_failures.find(r.operation); it != internal_failures.end() && it->second > 0) {
      --it->second;
      return error_for(r.service, 500, "InternalFailure",
                       "We encountered an internal error. Please try again.");
    }
    return std::nullopt;
  }

  // ---- SageMaker -----------------------------------------------------------

  std::string job_arn(std::string const& name) const {
    return "arn:aws:sagemaker:" + opts.region + ":" + opts.account + ":training-job/" + name;
  }

  void apply(job_record& j, std::string const& name, training_step const& s, clock_type::time_point now) {
    double const t = static_cast<double>(epoch_ms(now)) / 1000.0;
    if (s.secondary != j.secondary || j.transitions.empty()) {
      if (!j.transitions.empty()) j.transitions.back().as_object()["EndTime"] = t;
      j.transitions.push_back(json::object{{"Status", s.secondary}, {"StartTime", t}, {"StatusMessage", s.message}});
    }
    j.status = s.status;
    j.secondary = s.secondary;
    if (!s.failure_reason.empty()) j.failure_reason = s.failure_reason;
    if (s.secondary == "Training" && !j.training_start) j.training_start = t;
    if (j.ended()) j.training_end = t;
    j.last_modified = t;
    for (auto const& line : s.log_lines) {
      if (j.stream.empty()) j.stream = name + "/algo-1-" + std::to_string(static_cast<std::int64_t>(j.creation));
      j.events.emplace_back(epoch_ms(now), line);
    }
    j.last_step = now;
  }

  /// Moves the job on: steps whose delay has passed, and (on a Describe) one step without a delay.
  void advance(job_record& j, std::string const& name, bool describe_call) {
    auto const now = clock_type::now();
    if (j.ended()) return;
    if (j.stop_phase > 0) {
      if (!describe_call) return;
      training_step s;
      if (j.stop_phase == 1) {
        s.status = "Stopping";
        s.secondary = "Stopping";
        s.message = "Stopping the training job";
        j.stop_phase = 2;
      } else {
        s.status = "Stopped";
        s.secondary = "Stopped";
        s.message = "The training job was stopped";
      }
      apply(j, name, s, now);
      return;
    }
    bool stepped = false;
    while (j.applied + 1 < static_cast<int>(j.script.size()) && !j.ended()) {
      auto const& next = j.script[static_cast<std::size_t>(j.applied + 1)];
      if (next.delay > 0ms) {
        if (now - j.last_step < next.delay) break;
      } else if (!describe_call || stepped) {
        break;
      }
      ++j.applied;
      apply(j, name, next, now);
      stepped = true;
    }
  }

  json::object describe_job(std::string const& name, job_record const& j) const {
    json::object d;
    auto const* model = sagemaker_model();
    auto const* response = model ? model->shape("DescribeTrainingJobResponse") : nullptr;
    json::object const* members = nullptr;
    if (response)
      if (auto const* mv = response->if_contains("members")) members = &mv->as_object();
    // The request's members that the answer also has (AlgorithmSpecification, RoleArn, ResourceConfig, …).
    for (auto const& kv : j.request)
      if (!members || members->contains(kv.key())) d[kv.key()] = kv.value();
    d["TrainingJobName"] = name;
    d["TrainingJobArn"] = job_arn(name);
    d["TrainingJobStatus"] = j.status;
    d["SecondaryStatus"] = j.secondary;
    d["SecondaryStatusTransitions"] = j.transitions;
    if (!j.failure_reason.empty()) d["FailureReason"] = j.failure_reason;
    std::string output = "s3://liftoff-test/output";
    if (auto const* o = j.request.if_contains("OutputDataConfig"); o && o->is_object())
      if (auto const* p = o->as_object().if_contains("S3OutputPath"); p && p->is_string())
        output = std::string(p->as_string());
    while (!output.empty() && output.back() == '/') output.pop_back();
    d["ModelArtifacts"] = json::object{{"S3ModelArtifacts", output + "/" + name + "/output/model.tar.gz"}};
    if (!d.contains("StoppingCondition")) d["StoppingCondition"] = json::object{{"MaxRuntimeInSeconds", 86400}};
    if (!d.contains("EnableManagedSpotTraining")) d["EnableManagedSpotTraining"] = false;
    d["CreationTime"] = j.creation;
    d["LastModifiedTime"] = j.last_modified;
    if (j.training_start) d["TrainingStartTime"] = *j.training_start;
    if (j.training_end) d["TrainingEndTime"] = *j.training_end;
    return d;
  }

  job_record make_job(std::string const& name, json::object request, std::optional<training_script> script) {
    job_record j;
    j.request = std::move(request);
    if (script) j.script = std::move(*script);
    else if (auto it = scripts.find(name); it != scripts.end()) j.script = it->second;
    else if (auto all = scripts.find("*"); all != scripts.end()) j.script = all->second;
    else j.script = training_scripts::succeed();
    auto const now = clock_type::now();
    j.creation = static_cast<double>(epoch_ms(now)) / 1000.0;
    j.last_modified = j.creation;
    j.last_step = now;
    if (!j.script.empty()) {
      j.applied = 0;
      apply(j, name, j.script.front(), now);
    } else {
      apply(j, name, training_step{}, now);
    }
    return j;
  }

  answer sagemaker(aws_request& r, json::object const& body) {
    auto const* model = sagemaker_model();
    if (!model) return json_error(500, "InternalFailure", "the fake SageMaker has no model: " + model_path().string());
    if (!model->has_operation(r.operation)) {
      violation(r, "SageMaker has no operation " + r.operation);
      return json_error(400, "UnknownOperationException", "Unknown operation " + r.operation);
    }
    auto const problems = model->validate_input(r.operation, body);
    if (!problems.empty()) {
      auto const text = liftoff::aws::describe(problems);
      if (!expect_invalid) violation(r, "invalid request: " + text);
      return json_error(400, "ValidationException",
                        std::to_string(problems.size()) + " validation error" + (problems.size() > 1 ? "s" : "") +
                            " detected: " + text);
    }
    auto const name = body.contains("TrainingJobName") ? std::string(body.at("TrainingJobName").as_string())
                                                       : std::string();
    if (r.operation == "CreateTrainingJob") {
      if (jobs.count(name))
        return json_error(400, "ResourceInUse", "Training job names must be unique within an AWS account and region, "
                                                "and a training job with this name already exists (" +
                                                    job_arn(name) + ")");
      jobs.emplace(name, make_job(name, body, std::nullopt));
      return json_ok(json::object{{"TrainingJobArn", job_arn(name)}});
    }
    if (r.operation == "DescribeTrainingJob") {
      auto it = jobs.find(name);
      if (it == jobs.end()) return json_error(400, "ValidationException", "Requested resource not found.");
      advance(it->second, name, true);
      return json_ok(describe_job(name, it->second));
    }
    if (r.operation == "StopTrainingJob") {
      auto it = jobs.find(name);
      if (it == jobs.end()) return json_error(400, "ValidationException", "Requested resource not found.");
      auto& j = it->second;
      if (j.ended())
        return json_error(400, "ValidationException",
                          "The request was rejected because the training job is in status " + j.status + ".");
      if (j.stop_phase == 0) j.stop_phase = 1;
      return json_ok(json::object());
    }
    violation(r, "the fake SageMaker does not implement " + r.operation);
    return json_error(400, "UnknownOperationException", "Unknown operation " + r.operation);
  }

  // ---- CloudWatch Logs -----------------------------------------------------

  static constexpr std::string_view log_group = "/aws/sagemaker/TrainingJobs";

  static std::string forward_token(std::size_t index) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "f/%020zu", index);
    return buf;
  }

  answer logs(aws_request& r, json::object const& body) {
    for (auto& [name, j] : jobs) advance(j, name, false);
    auto str = [&](char const* key) {
      auto const* v = body.if_contains(key);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (str("logGroupName") != log_group)
      return json_error(400, "ResourceNotFoundException", "The specified log group does not exist.");
    if (r.operation == "DescribeLogStreams") {
      auto const prefix = str("logStreamNamePrefix");
      json::array streams;
      for (auto const& [name, j] : jobs) {
        if (j.stream.empty() || !j.stream.starts_with(prefix)) continue;
        json::object s{{"logStreamName", j.stream},
                       {"creationTime", static_cast<std::int64_t>(j.creation * 1000)},
                       {"arn", "arn:aws:logs:" + opts.region + ":" + opts.account + ":log-group:" +
                                   std::string(log_group) + ":log-stream:" + j.stream},
                       {"storedBytes", 0}};
        if (!j.events.empty()) {
          s["firstEventTimestamp"] = j.events.front().first;
          s["lastEventTimestamp"] = j.events.back().first;
          s["lastIngestionTime"] = j.events.back().first;
        }
        streams.push_back(std::move(s));
      }
      return json_ok(json::object{{"logStreams", std::move(streams)}});
    }
    if (r.operation == "GetLogEvents") {
      auto const stream = str("logStreamName");
      job_record const* job = nullptr;
      for (auto const& [name, j] : jobs)
        if (!j.stream.empty() && j.stream == stream) job = &j;
      if (!job) return json_error(400, "ResourceNotFoundException", "The specified log stream does not exist.");
      std::size_t limit = 10000;
      if (auto const* l = body.if_contains("limit"); l && l->is_number()) limit = l->to_number<std::size_t>();
      auto const& events = job->events;
      std::size_t start = 0;
      auto const token = str("nextToken");
      if (!token.empty()) {
        if (token.size() < 3 || (token[0] != 'f' && token[0] != 'b') || token[1] != '/') {
          violation(r, "GetLogEvents with a token the server did not hand out: " + token);
          return json_error(400, "InvalidParameterException", "The specified nextToken is invalid.");
        }
        start = std::min<std::size_t>(std::stoull(token.substr(2)), events.size());
      } else {
        auto const* head = body.if_contains("startFromHead");
        bool const from_head = head && head->is_bool() && head->as_bool();
        if (!from_head && events.size() > limit) start = events.size() - limit;
      }
      auto const end = std::min(events.size(), start + limit);
      json::array out;
      for (auto i = start; i < end; ++i)
        out.push_back(json::object{
            {"timestamp", events[i].first}, {"message", events[i].second}, {"ingestionTime", events[i].first}});
      // The same token comes back when there is nothing new, as CloudWatch does.
      return json_ok(json::object{{"events", std::move(out)},
                                  {"nextForwardToken", forward_token(end)},
                                  {"nextBackwardToken", "b/" + forward_token(start).substr(2)}});
    }
    violation(r, "the fake CloudWatch Logs does not implement " + r.operation);
    return json_error(400, "UnknownOperationException", "Unknown operation " + r.operation);
  }

  // ---- ECR -----------------------------------------------------------------

  answer ecr(aws_request& r, json::object const& body) {
    if (r.operation == "GetAuthorizationToken") {
      auto const endpoint =
          proxy_endpoint.empty() ? "https://" + opts.account + ".dkr.ecr." + opts.region + ".amazonaws.com" : proxy_endpoint;
      json::object data{{"authorizationToken", liftoff::detail::base64_encode("AWS:" + ecr_password)},
                        {"expiresAt", epoch_now() + 12 * 3600},
                        {"proxyEndpoint", endpoint}};
      return json_ok(json::object{{"authorizationData", json::array{std::move(data)}}});
    }
    if (r.operation == "DescribeImages") {
      auto const* repo_v = body.if_contains("repositoryName");
      if (!repo_v || !repo_v->is_string()) {
        violation(r, "DescribeImages without a repositoryName");
        return json_error(400, "InvalidParameterException", "repositoryName is required");
      }
      auto const repo = std::string(repo_v->as_string());
      if (!repositories.count(repo))
        return json_error(400, "RepositoryNotFoundException",
                          "The repository with name '" + repo + "' does not exist in the registry with id '" +
                              opts.account + "'");
      auto const& all = images[repo];
      auto detail = [&](std::string const& digest) {
        json::array tags;
        for (auto const& i : all)
          if (i.digest == digest) tags.push_back(json::value(i.tag));
        return json::object{{"registryId", opts.account},
                            {"repositoryName", repo},
                            {"imageDigest", digest},
                            {"imageTags", std::move(tags)},
                            {"imageSizeInBytes", 1024},
                            {"imagePushedAt", epoch_now()},
                            {"imageManifestMediaType", "application/vnd.docker.distribution.manifest.v2+json"}};
      };
      json::array details;
      std::set<std::string> seen;
      auto const* ids = body.if_contains("imageIds");
      if (!ids || !ids->is_array() || ids->as_array().empty()) {
        for (auto const& i : all)
          if (seen.insert(i.digest).second) details.push_back(detail(i.digest));
        return json_ok(json::object{{"imageDetails", std::move(details)}});
      }
      for (auto const& idv : ids->as_array()) {
        if (!idv.is_object()) continue;
        auto const& id = idv.as_object();
        std::string tag, digest;
        if (auto const* t = id.if_contains("imageTag"); t && t->is_string()) tag = std::string(t->as_string());
        if (auto const* d = id.if_contains("imageDigest"); d && d->is_string()) digest = std::string(d->as_string());
        auto found = std::find_if(all.begin(), all.end(), [&](image_record const& i) {
          return (tag.empty() || i.tag == tag) && (digest.empty() || i.digest == digest);
        });
        if (found == all.end())
          return json_error(400, "ImageNotFoundException",
                            "The image with imageId {imageDigest:'" + (digest.empty() ? "null" : digest) +
                                "', imageTag:'" + (tag.empty() ? "null" : tag) +
                                "'} does not exist within the repository with name '" + repo +
                                "' in the registry with id '" + opts.account + "'");
        if (seen.insert(found->digest).second) details.push_back(detail(found->digest));
      }
      return json_ok(json::object{{"imageDetails", std::move(details)}});
    }
    violation(r, "the fake ECR does not implement " + r.operation);
    return json_error(400, "UnknownOperationException", "Unknown operation " + r.operation);
  }

  // ---- STS -----------------------------------------------------------------

  answer sts(aws_request& r, std::map<std::string, std::string> const& form) {
    if (auto v = form.find("Version"); v == form.end() || v->second != "2011-06-15")
      violation(r, "STS request without Version=2011-06-15");
    auto const& caller = keys.at(r.access_key_id);
    if (r.operation == "GetCallerIdentity") {
      boost::property_tree::ptree t;
      auto& g = t.put_child("GetCallerIdentityResponse", {});
      g.put("<xmlattr>.xmlns", "https://sts.amazonaws.com/doc/2011-06-15/");
      auto const arn = caller.arn.empty() ? "arn:aws:iam::" + opts.account + ":user/liftoff-test" : caller.arn;
      g.put("GetCallerIdentityResult.Arn", arn);
      g.put("GetCallerIdentityResult.UserId", "AIDA" + r.access_key_id.substr(std::min<std::size_t>(4, r.access_key_id.size())));
      g.put("GetCallerIdentityResult.Account", opts.account);
      g.put("ResponseMetadata.RequestId", request_id());
      return {200, xml(t), {{"Content-Type", "text/xml"}}};
    }
    if (r.operation == "AssumeRole") {
      auto const role = form.count("RoleArn") ? form.at("RoleArn") : std::string();
      auto const session = form.count("RoleSessionName") ? form.at("RoleSessionName") : std::string();
      if (role.empty() || session.empty()) {
        violation(r, "AssumeRole without RoleArn or RoleSessionName");
        return sts_error(400, "ValidationError", "RoleArn and RoleSessionName are required");
      }
      auto it = roles.find(role);
      if (it == roles.end())
        return sts_error(403, "AccessDenied", "User: " + (caller.arn.empty() ? "arn:aws:iam::" + opts.account +
                                                                                 ":user/liftoff-test"
                                                                           : caller.arn) +
                                                  " is not authorized to perform: sts:AssumeRole on resource: " + role);
      auto duration = it->second;
      if (auto d = form.find("DurationSeconds"); d != form.end()) duration = std::chrono::seconds(std::stoll(d->second));
      auto const expires = clock_type::now() + duration;
      auto const role_name = role.substr(role.rfind('/') + 1);
      auto const assumed = "arn:aws:sts::" + opts.account + ":assumed-role/" + role_name + "/" + session;
      auto const id = fresh_temporary_key(expires, assumed);
      auto const& k = keys.at(id);
      boost::property_tree::ptree t;
      auto& g = t.put_child("AssumeRoleResponse", {});
      g.put("<xmlattr>.xmlns", "https://sts.amazonaws.com/doc/2011-06-15/");
      g.put("AssumeRoleResult.Credentials.AccessKeyId", id);
      g.put("AssumeRoleResult.Credentials.SecretAccessKey", k.secret);
      g.put("AssumeRoleResult.Credentials.SessionToken", k.session_token);
      g.put("AssumeRoleResult.Credentials.Expiration",
            liftoff::aws::detail::format_iso8601(static_cast<double>(epoch_ms(expires) / 1000)));
      g.put("AssumeRoleResult.AssumedRoleUser.AssumedRoleId", "AROA" + random_text(rng, 16, upper_digits) + ":" + session);
      g.put("AssumeRoleResult.AssumedRoleUser.Arn", assumed);
      g.put("ResponseMetadata.RequestId", request_id());
      return {200, xml(t), {{"Content-Type", "text/xml"}}};
    }
    violation(r, "the fake STS does not implement " + r.operation);
    return sts_error(400, "InvalidAction", "Could not find operation " + r.operation + " for version 2011-06-15");
  }

  // ---- metadata endpoints --------------------------------------------------

  json::object temporary_credentials_json(std::string const& arn) {
    auto const expires = clock_type::now() + 6h;
    auto const id = fresh_temporary_key(expires, arn);
    auto const& k = keys.at(id);
    return json::object{{"AccessKeyId", id},
                        {"SecretAccessKey", k.secret},
                        {"Token", k.session_token},
                        {"Expiration", liftoff::aws::detail::format_iso8601(static_cast<double>(epoch_ms(expires) / 1000))}};
  }

  std::optional<answer> metadata_request(net_server_request const& req, aws_request& r) {
    auto const& t = req.target;
    if (t.starts_with("/container/")) {
      r.service = "container";
      r.operation = "container-credentials";
      if (!metadata) return answer{404, "not found", {}};
      if (!container_token.empty() && req.header("authorization") != container_token) {
        if (!expect_auth) violation(r, "container credentials without the authorization token");
        return answer{401, R"({"message":"unauthorized"})", {{"Content-Type", "application/json"}}};
      }
      return answer{200, json::serialize(temporary_credentials_json("arn:aws:sts::" + opts.account +
                                                                    ":assumed-role/liftoff-task-role/task")),
                    {{"Content-Type", "application/json"}}};
    }
    if (!t.starts_with("/latest/")) return std::nullopt;
    r.service = "imds";
    if (!metadata) return answer{404, "not found", {}};
    if (t == "/latest/api/token") {
      r.operation = "token";
      if (req.method != "PUT" || req.header("x-aws-ec2-metadata-token-ttl-seconds").empty()) {
        violation(r, "IMDSv2 token request must be PUT with X-aws-ec2-metadata-token-ttl-seconds");
        return answer{400, "bad request", {}};
      }
      imds_token = "AQAEA" + random_text(rng, 40, secret_chars);
      return answer{200, imds_token, {{"Content-Type", "text/plain"}}};
    }
    r.operation = "security-credentials";
    if (imds_token.empty() || req.header("x-aws-ec2-metadata-token") != imds_token) {
      violation(r, "IMDS request without a valid X-aws-ec2-metadata-token (IMDSv2)");
      return answer{401, "unauthorized", {}};
    }
    constexpr std::string_view base = "/latest/meta-data/iam/security-credentials/";
    if (t == base || t == base.substr(0, base.size() - 1)) return answer{200, instance_role, {{"Content-Type", "text/plain"}}};
    if (t.starts_with(base) && t.substr(base.size()) == instance_role) {
      auto body = temporary_credentials_json("arn:aws:sts::" + opts.account + ":assumed-role/" + instance_role + "/i-0");
      body["Code"] = "Success";
      body["Type"] = "AWS-HMAC";
      body["LastUpdated"] = liftoff::aws::detail::format_iso8601(static_cast<double>(epoch_ms(clock_type::now()) / 1000));
      return answer{200, json::serialize(body), {{"Content-Type", "text/plain"}}};
    }
    return answer{404, "not found", {}};
  }

  // ---- dispatch ------------------------------------------------------------

  answer handle(net_server_request const& req, aws_request& r) {
    if (auto a = metadata_request(req, r)) return *a;
    auto const target_header = req.header("x-amz-target");
    auto const content_type = req.header("content-type");
    if (!target_header.empty()) {
      auto const dot = target_header.find('.');
      auto const prefix = target_header.substr(0, dot);
      r.operation = dot == std::string::npos ? std::string() : target_header.substr(dot + 1);
      if (prefix == "SageMaker") r.service = "sagemaker";
      else if (prefix == "AmazonEC2ContainerRegistry_V20150921") r.service = "ecr";
      else if (prefix == "Logs_20140328") r.service = "logs";
      else {
        violation(r, "unknown X-Amz-Target " + target_header);
        return json_error(400, "UnknownOperationException", "Unknown X-Amz-Target " + target_header);
      }
      if (req.method != "POST" || req.target != "/") violation(r, "JSON 1.1 requests are POST /");
      if (content_type != "application/x-amz-json-1.1") {
        violation(r, "Content-Type is '" + content_type + "', not application/x-amz-json-1.1");
        return json_error(400, "SerializationException", "Content-Type must be application/x-amz-json-1.1");
      }
      if (auto refused = check_signature(req, r)) return *refused;
      if (auto f = fault(r)) return *f;
      boost::system::error_code ec;
      auto body = json::parse(req.body, ec);
      if (ec || !body.is_object()) {
        violation(r, "the body is not a JSON object");
        return json_error(400, "SerializationException", "the body is not a JSON object");
      }
      if (r.service == "sagemaker") return sagemaker(r, body.as_object());
      if (r.service == "logs") return logs(r, body.as_object());
      return ecr(r, body.as_object());
    }
    if (req.method == "POST" && content_type.starts_with("application/x-www-form-urlencoded")) {
      r.service = "sts";
      std::map<std::string, std::string> form;
      auto const query = "/?" + req.body;  // the view refers to it
      auto parsed = boost::urls::parse_origin_form(query);
      if (parsed)
        for (auto const& p : parsed->params()) form[p.key] = p.value;
      r.operation = form.count("Action") ? form["Action"] : std::string();
      if (auto refused = check_signature(req, r)) return *refused;
      if (auto f = fault(r)) return *f;
      return sts(r, form);
    }
    violation(r, "not an AWS request this server knows (no X-Amz-Target, not an STS form)");
    return answer{404, "not found", {}};
  }

  void serve(net_exchange& ex) {
    auto const& req = ex.request();
    answer a;
    {
      std::lock_guard lock(m);
      aws_request r;
      r.method = req.method;
      r.target = req.target;
      r.headers = req.headers;
      r.body = req.body;
      a = handle(req, r);
      requests.push_back(std::move(r));
    }
    ex.respond(a.status, a.body, a.headers);
  }
};

aws_test_server::aws_test_server() : aws_test_server(options{}) {}

aws_test_server::aws_test_server(options o) : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(o);
  impl_->keys[impl_->opts.access_key_id] = key_record{impl_->opts.secret_access_key, {}, std::nullopt, {}};
  impl_->ecr_password = random_text(impl_->rng, 64, secret_chars);
  auto* self = impl_.get();
  impl_->server = net_test_server::tcp([self](net_exchange& ex) { self->serve(ex); });
}

aws_test_server::~aws_test_server() {
  if (impl_->server) impl_->server->stop();
}

bool aws_test_server::available() { return sagemaker_model() != nullptr; }

std::string aws_test_server::unavailable_reason() {
  if (!std::filesystem::exists(model_path()))
    return "the SageMaker service model " + model_path().string() + " is not present";
  auto r = liftoff::aws::service_model::load(model_path());
  return r ? std::string() : r.error().message;
}

std::string aws_test_server::url() const { return impl_->server->url(); }

aws_test_server::options const& aws_test_server::config() const { return impl_->opts; }

std::map<std::string, std::string> aws_test_server::environment() const {
  return {{"AWS_ENDPOINT_URL", url()},
          {"AWS_ACCESS_KEY_ID", impl_->opts.access_key_id},
          {"AWS_SECRET_ACCESS_KEY", impl_->opts.secret_access_key},
          {"AWS_REGION", impl_->opts.region},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"LIFTOFF_AWS_MODELS", model_path().string()}};
}

void aws_test_server::add_credentials(std::string access_key_id, std::string secret, std::string session_token,
                                      std::optional<std::chrono::system_clock::time_point> expires) {
  std::lock_guard lock(impl_->m);
  impl_->keys[std::move(access_key_id)] = key_record{std::move(secret), std::move(session_token), expires, {}};
}

void aws_test_server::add_role(std::string role_arn, std::chrono::seconds duration) {
  std::lock_guard lock(impl_->m);
  impl_->roles[std::move(role_arn)] = duration;
}

void aws_test_server::serve_metadata_credentials(std::string container_token, std::string role_name) {
  std::lock_guard lock(impl_->m);
  impl_->metadata = true;
  impl_->container_token = std::move(container_token);
  impl_->instance_role = std::move(role_name);
}

void aws_test_server::expect_auth_failures() {
  std::lock_guard lock(impl_->m);
  impl_->expect_auth = true;
}

void aws_test_server::expect_invalid_requests() {
  std::lock_guard lock(impl_->m);
  impl_->expect_invalid = true;
}

void aws_test_server::script(std::string name, training_script s) {
  std::lock_guard lock(impl_->m);
  impl_->scripts[std::move(name)] = std::move(s);
}

void aws_test_server::add_training_job(boost::json::object request, training_script s) {
  std::lock_guard lock(impl_->m);
  auto const name = std::string(request.at("TrainingJobName").as_string());
  impl_->jobs[name] = impl_->make_job(name, std::move(request), std::move(s));
}

std::optional<boost::json::object> aws_test_server::training_job(std::string const& name) const {
  std::lock_guard lock(impl_->m);
  auto it = impl_->jobs.find(name);
  if (it == impl_->jobs.end()) return std::nullopt;
  return it->second.request;
}

std::optional<boost::json::object> aws_test_server::describe(std::string const& name) const {
  std::lock_guard lock(impl_->m);
  auto it = impl_->jobs.find(name);
  if (it == impl_->jobs.end()) return std::nullopt;
  return impl_->describe_job(name, it->second);
}

std::vector<std::string> aws_test_server::training_job_names() const {
  std::lock_guard lock(impl_->m);
  std::vector<std::string> out;
  for (auto const& kv : impl_->jobs) out.push_back(kv.first);
  return out;
}

void aws_test_server::add_repository(std::string name) {
  std::lock_guard lock(impl_->m);
  impl_->repositories.insert(std::move(name));
}

void aws_test_server::add_image(std::string repository, std::string tag, std::string digest) {
  std::lock_guard lock(impl_->m);
  impl_->repositories.insert(repository);
  impl_->images[std::move(repository)].push_back({std::move(tag), std::move(digest)});
}

std::string aws_test_server::ecr_password() const {
  std::lock_guard lock(impl_->m);
  return impl_->ecr_password;
}

void aws_test_server::set_proxy_endpoint(std::string url) {
  std::lock_guard lock(impl_->m);
  impl_->proxy_endpoint = std::move(url);
}

void aws_test_server::throttle(std::string operation, int times) {
  std::lock_guard lock(impl_->m);
  impl_->throttles[std::move(operation)] = times;
}

void aws_test_server::fail_internal(std::string operation, int times) {
  std::lock_guard lock(impl_->m);
  impl_->internal_failures[std::move(operation)] = times;
}

std::vector<aws_request> aws_test_server::requests() const {
  std::lock_guard lock(impl_->m);
  return impl_->requests;
}

std::vector<aws_request> aws_test_server::requests(std::string const& operation) const {
  std::lock_guard lock(impl_->m);
  std::vector<aws_request> out;
  for (auto const& r : impl_->requests)
    if (r.operation == operation) out.push_back(r);
  return out;
}

std::vector<std::string> aws_test_server::violations() const {
  std::lock_guard lock(impl_->m);
  return impl_->violations;
}

}  // namespace liftoff::test
