#ifndef LIFTOFF_KUBE_SCHEMA_HPP
#define LIFTOFF_KUBE_SCHEMA_HPP

/** Strict validation of Kubernetes objects against the API server's OpenAPI
    v2 document (`/openapi/v2`, or `swagger.json` of a release), as
    `kubectl --validate=strict` does: unknown fields, wrong types, missing
    required fields, each reported with its field path. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>

#include <boost/json/value.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::kube {

/// One thing wrong with an object.
struct schema_problem {
  /// "spec.template.spec.containers[0].imagePullPolicy"; map entries in brackets,
  /// "metadata.labels[app.kubernetes.io/name]"; "" for the object itself
  std::string path;
  std::string message;  ///< "unknown field \"imagePullPolcy\"", "expected integer, got string \"x\"", "required field missing"
};

/** An OpenAPI v2 document's `definitions`, indexed by the group-version-kind
    each one declares (`x-kubernetes-group-version-kind`). Immutable once
    built; cheap to share (copies share the document). */
class schema {
public:
  /** Reads the document. Fails with error::parse_error when it is not an
      OpenAPI 2.0 object with `definitions`. */
  static result<schema> parse(boost::json::value const& openapi_v2);
  /// Reads and parses a file (error::file_not_found / parse_error naming it).
  static result<schema> load(std::filesystem::path const& file);

  /// The definition name ("io.k8s.api.batch.v1.Job") for a kind, if the document has it.
  std::optional<std::string> definition_for(std::string_view api_version, std::string_view kind) const;

  /** Validates `object` against the definition for its `apiVersion` and
      `kind`. Empty when valid. An object whose kind the document does not
      know gives one problem at path "kind". Rules:
      - `$ref` followed; `allOf` of one ref as the ref;
      - an object with `properties`: every field must be declared (unknown
        fields are problems, with the closest declared name suggested);
        `required` members must be present;
      - `additionalProperties`: each value checked against it (maps such as labels);
      - `type` string / integer / number / boolean / array / object checked;
        `format: int-or-string` takes either, and a Quantity
        (`io.k8s.apimachinery.pkg.api.resource.Quantity`) takes a string or a number;
      - `enum` values checked when the document lists them;
      - `null` is accepted for any optional field, as the API server does. */
  std::vector<schema_problem> validate(boost::json::value const& object) const;
  /// As above, against a named definition.
  std::vector<schema_problem> validate(boost::json::value const& object, std::string_view definition) const;

  /** The problems as one diagnostic (error::invalid_spec), the first ten
      joined and the rest counted: "`what` is not valid:
      spec.template.spec.containers[0].imagePullPolcy: unknown field
      \"imagePullPolcy\" (did you mean imagePullPolicy?); …; and 3 more
      problems". `what` names the object, as `describe` does. */
  static diagnostic to_diagnostic(std::vector<schema_problem> const& problems, std::string_view what);

  /** How an object is named in messages, for `to_diagnostic`'s `what`:
      `Job "ns/train-x1"` (kind, namespace/name or generateName as far as
      the object has them). Never fails. */
  static std::string describe(boost::json::value const& object);

private:
  struct document;
  explicit schema(std::shared_ptr<document const> d) noexcept;
  std::shared_ptr<document const> doc_;
};

}  // namespace liftoff::kube

#if LIFTOFF_HEADER_ONLY
#include <liftoff/kube/impl/schema.ipp>
#endif

#endif
