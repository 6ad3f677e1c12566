// The SageMaker target's figures: what signing costs, and what an agent
// following many training jobs costs in memory and in AWS requests.
//
//   sagemaker [--signatures N] [--runs N] [--window SECONDS] [--only sign|follow]
//
// sign    Signs a CreateTrainingJob request (1.6 KiB JSON body, the headers
//         json_client sends) --signatures times with aws::sign_headers, beside
//         the cryptography alone (the body's and the canonical request's
//         SHA-256 and the five HMAC-SHA256 of the key derivation and
//         signature), the floor.
// follow  The tests' local AWS server (in a child process, so it is not
//         counted) runs --runs training jobs that stay in Training and write
//         a log line. This process starts them all with sagemaker_target
//         (poll_min 2 s, poll_max 30 s, log_poll 2 s: the defaults), waits
//         until every run is running and has its log line, and reports its
//         resident size (VmRSS), threads, and the requests per second the
//         runs send to AWS over --window seconds at steady state; then it
//         cancels them all (StopTrainingJob, waiting for Stopped).

#include <liftoff/aws/sigv4.hpp>
#include <liftoff/detail/sha256.hpp>
#include <liftoff/sagemaker/target.hpp>

#include "support/aws_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace liftoff;
using namespace std::chrono_literals;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

namespace {

long proc_status(char const* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  auto const n = std::string_view(key).size();
  while (std::getline(in, line))
    if (line.compare(0, n, key) == 0) return std::stol(line.substr(n));
  return 0;
}

std::string create_body() {
  json::object env;
  for (char const* k : {"LIFTOFF_RUN_ID", "LIFTOFF_PROJECT", "LIFTOFF_QUEUE", "LIFTOFF_SERVER", "LIFTOFF_JOB"})
    env[k] = "value-of-" + std::string(k);
  json::object body{
      {"TrainingJobName", "train-resnet-abcd1234"},
      {"AlgorithmSpecification",
       {{"TrainingImage", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/train@sha256:"
                          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        {"TrainingInputMode", "File"},
        {"ContainerEntrypoint", json::array{"python", "train.py"}},
        {"ContainerArguments", json::array{"--epochs", "10", "--lr", "0.001"}}}},
      {"RoleArn", "arn:aws:iam::123456789012:role/SageMakerRole"},
      {"OutputDataConfig", {{"S3OutputPath", "s3://bucket/team/train/output"}}},
      {"ResourceConfig", {{"InstanceType", "ml.g5.xlarge"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 50}}},
      {"StoppingCondition", {{"MaxRuntimeInSeconds", 86400}}},
      {"HyperParameters", {{"epochs", "10"}, {"lr", "0.001"}, {"batch_size", "64"}}},
      {"Environment", env},
      {"Tags", json::array{json::object{{"Key", "liftoff:run-id"}, {"Value", "abcd1234"}},
                           json::object{{"Key", "team"}, {"Value", "vision"}}}}};
  auto s = json::serialize(body);
  while (s.size() < 1600) s.insert(s.size() - 1, ",\"Pad\":\"" + std::string(40, 'x') + "\"");
  return s;
}

void sign(int signatures) {
  aws::credentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt, "benchmark"};
  aws::signing_params p;
  p.region = "us-east-1";
  p.service = "sagemaker";
  std::string const body = create_body();
  auto make = [&] {
    aws::http_message m;
    m.method = "POST";
    m.target = "/";
    m.headers = {{"Host", "api.sagemaker.us-east-1.amazonaws.com"},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "SageMaker.CreateTrainingJob"},
                 {"User-Agent", "liftoff/0.1"},
                 {"Content-Length", std::to_string(body.size())}};
    m.body = body;
    return m;
  };
  std::size_t sink = 0;
  for (int i = 0; i < 1000; ++i) {  // warm-up
    auto m = make();
    sink += aws::sign_headers(m, c, p)->signature.size();
  }
  auto t0 = clock_type::now();
  for (int i = 0; i < signatures; ++i) {
    auto m = make();
    auto r = aws::sign_headers(m, c, p);
    if (!r) throw std::runtime_error("signing failed: " + r.error().what());
    sink += r->signature.size();
  }
  double sign_s = std::chrono::duration<double>(clock_type::now() - t0).count();

  // The floor: the same cryptography on inputs of the same sizes.
  aws::http_message sample = make();
  auto sample_result = aws::sign_headers(sample, c, p);
  std::string const creq = sample_result->canonical_request;
  std::string const sts = sample_result->string_to_sign;
  t0 = clock_type::now();
  for (int i = 0; i < signatures; ++i) {
    sink += liftoff::detail::sha256_hex(body).size();
    sink += liftoff::detail::sha256_hex(creq).size();
    auto k = aws::detail::hmac_sha256("AWS4" + c.secret_access_key, "20150830");
    k = aws::detail::hmac_sha256(k, "us-east-1");
    k = aws::detail::hmac_sha256(k, "sagemaker");
    k = aws::detail::hmac_sha256(k, "aws4_request");
    sink += aws::detail::hmac_sha256(k, sts).size();
  }
  double crypto_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("SigV4 signing of a CreateTrainingJob request (%zu-byte body), %d signatures:\n", body.size(), signatures);
  std::printf("  aws::sign_headers        %9.0f signatures/s   (%.2f us each)\n", signatures / sign_s,
              sign_s / signatures * 1e6);
  std::printf("  the cryptography alone   %9.0f signatures/s   (%.2f us each)\n", signatures / crypto_s,
              crypto_s / signatures * 1e6);
  std::printf("  canonicalization and headers beyond it: %.2f us per signature  (checksum %zu)\n",
              (sign_s - crypto_s) / signatures * 1e6, sink % 10);
}

void follow(int runs, int window_s) {
  if (!test::aws_test_server::available()) {
    std::printf("follow: skipped: %s\n", test::aws_test_server::unavailable_reason().c_str());
    return;
  }
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error("pipe failed");
  pid_t child = fork();
  if (child == 0) {
    close(to_child[1]);
    close(from_child[0]);
    {
      test::aws_test_server server;
      server.script("*", test::training_scripts::run_until_stopped({"epoch 1"}));
      std::string env;
      for (auto const& [k, v] : server.environment()) env += k + "=" + v + "\n";
      env += "\n";
      (void)!write(from_child[1], env.data(), env.size());
      char c;
      while (read(to_child[0], &c, 1) == 1) {  // 'c': send the request count; EOF: stop
        auto n = static_cast<long>(server.requests().size());
        (void)!write(from_child[1], &n, sizeof n);
      }
    }
    _exit(0);
  }
  close(to_child[0]);
  close(from_child[1]);
  std::map<std::string, std::string> env;
  {
    std::string text;
    char c;
    while (read(from_child[0], &c, 1) == 1) {
      text += c;
      if (text.ends_with("\n\n")) break;
    }
    std::size_t at = 0;
    while (at < text.size()) {
      auto nl = text.find('\n', at);
      auto line = text.substr(at, nl - at);
      at = nl + 1;
      if (auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    if (env.empty()) throw std::runtime_error("the AWS server did not start");
  }
  auto server_requests = [&] {
    char c = 'c';
    (void)!write(to_child[1], &c, 1);
    long n = 0;
    if (read(from_child[0], &n, sizeof n) != sizeof n) throw std::runtime_error("the AWS server stopped");
    return n;
  };

  sagemaker_target target;
  target.aws.environment = env;
  auto start_one = [&](int i) {
    launch_spec s;
    std::string const image =
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/train@sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    s.source = image_ref{image};
    s.entry_point = {"python", "train.py"};
    s.resource = "sagemaker";
    s.run_id = "m" + std::to_string(i);
    s.job_name = "train";
    s.resource_args["sagemaker"] = json::object{
        {"RoleArn", "arn:aws:iam::123456789012:role/SageMakerRole"},
        {"OutputDataConfig", {{"S3OutputPath", "s3://bucket/output"}}},
        {"ResourceConfig", {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 10}}},
        {"StoppingCondition", {{"MaxRuntimeInSeconds", 3600}}}};
    artifact in{artifact_kind::registry_image, {}, image, "", nullptr};
    auto r = target.start(in, s, {});
    if (!r) throw std::runtime_error("start failed: " + r.error().what());
    return std::move(*r);
  };
  auto wait_running = [](std::vector<sagemaker_target::run>& started) {
    for (auto& r : started) {
      for (;;) {
        bool logged = false;
        for (auto const& l : r.logs()) logged = logged || l.text == "epoch 1";
        if (r.status().state == run_state::running && logged) break;
        if (r.status().terminal()) throw std::runtime_error("a run ended: " + r.status().message);
        std::this_thread::sleep_for(20ms);
      }
    }
  };
  long before = proc_status("VmRSS:");
  std::vector<sagemaker_target::run> started;
  started.push_back(start_one(0));  // loads the service model once
  wait_running(started);
  long one = proc_status("VmRSS:");
  long threads_one = proc_status("Threads:");
  auto t0 = clock_type::now();
  for (int i = 1; i < runs; ++i) started.push_back(start_one(i));
  double start_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  wait_running(started);
  long all = proc_status("VmRSS:");
  long threads_all = proc_status("Threads:");
  // Steady state: every poll interval has grown to its cap.
  std::this_thread::sleep_for(std::chrono::seconds(std::max(window_s, 35)));
  long n0 = server_requests();
  auto w0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds(window_s));
  long n1 = server_requests();
  double w = std::chrono::duration<double>(clock_type::now() - w0).count();
  std::printf("\nan agent following %d SageMaker training jobs:\n", runs);
  std::printf("  VmRSS before any run %.1f MiB; with 1 run %.1f MiB (the service model parsed once)\n",
              before / 1024.0, one / 1024.0);
  std::printf("  with %d runs: %.1f MiB, %.1f KiB per run; %ld threads (%ld with 1 run)\n", runs, all / 1024.0,
              static_cast<double>(all - one) / (runs - 1), threads_all, threads_one);
  std::printf("  started %d runs in %.2f s (%.1f ms each)\n", runs, start_s, start_s * 1000 / runs);
  std::printf("  AWS requests at steady state: %.1f per second in all, %.3f per run per second (%.0f s window)\n",
              (n1 - n0) / w, (n1 - n0) / w / runs, w);
  t0 = clock_type::now();
  std::vector<std::thread> cancellers;
  for (int k = 0; k < 16; ++k)
    cancellers.emplace_back([&, k] {
      for (std::size_t i = static_cast<std::size_t>(k); i < started.size(); i += 16) started[i].cancel(1s);
    });
  for (auto& t : cancellers) t.join();
  int stopped = 0;
  for (auto& r : started) stopped += r.status().state == run_state::stopped;
  std::printf("  cancelled them all in %.2f s; %d of %d stopped\n",
              std::chrono::duration<double>(clock_type::now() - t0).count(), stopped, runs);
  close(to_child[1]);
  waitpid(child, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The SageMaker target's signing cost, memory and AWS request rate", "sagemaker"};
  int signatures = 100000;
  int runs = 200;
  int window = 30;
  std::string only;
  app.add_option("--signatures", signatures, "Signatures to time")->check(CLI::PositiveNumber);
  app.add_option("--runs", runs, "Training jobs followed at once")->check(CLI::Range(2, 100000));
  app.add_option("--window", window, "Seconds over which the request rate is measured")->check(CLI::PositiveNumber);
  app.add_option("--only", only, "Run one part")->check(CLI::IsMember({"sign", "follow"}));
  CLI11_PARSE(app, argc, argv);
  try {
    if (only.empty() || only == "sign") sign(signatures);
    if (only.empty() || only == "follow") follow(runs, window);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "sagemaker: %s\n", e.what());
    return 1;
  }
}
