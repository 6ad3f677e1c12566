#ifndef LIFTOFF_AWS_MODEL_HPP
#define LIFTOFF_AWS_MODEL_HPP

/** An AWS service model in the botocore JSON format (`service-2.json`):
    operations and shapes, used to validate a request before it is sent
    (required members, types, enums, patterns, lengths, ranges, unknown
    members), naming each problem by its member path, and to convert values
    to and from the AWS JSON 1.1 wire form (timestamps as epoch seconds,
    blobs as base64).

    liftoff does not ship models. `find_model` looks for one where a user
    has it (botocore's data directory, `LIFTOFF_AWS_MODELS`); without one,
    the service's own validation remains. */

#include <liftoff/detail/config.hpp>
#include <liftoff/aws/credentials.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::aws {

/// One thing wrong with a value: where ("ResourceConfig.InstanceType") and what.
struct model_problem {
  std::string path;     ///< member path, "Environment.LIFTOFF_X", "HyperParameters", "Tags[0].Key"; "" for the top
  std::string message;  ///< "must be one of ml.m5.large, …", "length 300 exceeds the maximum of 256"
};

/// "path: message" lines joined by "; ".
std::string describe(std::vector<model_problem> const& problems);

/** A loaded service model. Cheap to copy (the document is shared and immutable). */
class service_model {
public:
  /** Reads a botocore `service-2.json`. Fails with error::file_not_found /
      error::parse_error naming the file, or error::invalid_spec when it has
      no `operations` and `shapes`. */
  static result<service_model> load(std::filesystem::path const& file);
  /// From a parsed document.
  static result<service_model> from_json(boost::json::value doc);

  boost::json::object const& metadata() const;  ///< protocol, jsonVersion, targetPrefix, signingName, …
  bool has_operation(std::string_view operation) const;
  /// The input / output shape name of `operation` ("" when it has none or is unknown).
  std::string input_shape(std::string_view operation) const;
  std::string output_shape(std::string_view operation) const;
  /// The shape named `name`, or nullptr.
  boost::json::object const* shape(std::string_view name) const;

  /** Every problem of `v` as a value of shape `shape_name`: unknown members
      (with the closest name), missing required members, wrong types
      (structure, list, map, string, integer/long in range, boolean,
      float/double, timestamp, blob), `enum`, `pattern` (ECMAScript syntax,
      `\p{…}` classes included, unanchored as in Smithy), `min`/`max` (string
      length in characters, list and map sizes, number ranges). */
  std::vector<model_problem> validate(std::string_view shape_name, boost::json::value const& v) const;
  /// `validate` against the input shape of `operation` (a problem when the model has no such operation).
  std::vector<model_problem> validate_input(std::string_view operation, boost::json::value const& v) const;

  /** The JSON 1.1 wire form of `v` (shape `shape_name`): members renamed by
      `jsonName`/`locationName`, timestamps (epoch numbers or ISO 8601
      strings) as epoch seconds (or as the member's `timestampFormat` says:
      `iso8601`, `rfc822`), blobs (strings) base64-encoded, null members
      dropped. Fails with error::invalid_spec naming the member path when a
      value cannot be converted. */
  result<boost::json::value> serialize(std::string_view shape_name, boost::json::value const& v) const;
  /** The reverse of `serialize` for a response: timestamps become epoch
      seconds (numbers, from numbers, ISO 8601 or HTTP dates), blobs are
      base64-decoded, members renamed back; members the model does not
      know (`__type`) and nulls are dropped. */
  result<boost::json::value> deserialize(std::string_view shape_name, boost::json::value const& v) const;

private:
  std::shared_ptr<boost::json::object const> doc_;
};

/** Looks for the model of `service` ("sagemaker") at API version
    `api_version` ("2017-07-24"):
    1. `LIFTOFF_AWS_MODELS`, a ':'-separated list of directories laid out
       as botocore's `data` (`<service>/<version>/service-2.json`) or of
       model files (a file is used for the service its metadata names);
    2. botocore's data directories (`/usr/lib/python3/dist-packages/botocore/data`,
       `/usr/local/lib/python3.X/{dist,site}-packages/botocore/data`, the same
       under `/usr/lib` and `~/.local/lib`).
    nullopt when none has it. An empty `api_version` takes the newest. */
std::optional<std::filesystem::path> find_model(credentials_options const& o, std::string_view service,
                                                std::string_view api_version);

}  // namespace liftoff::aws

#if LIFTOFF_HEADER_ONLY
#include <liftoff/aws/impl/model.ipp>
#endif

#endif
