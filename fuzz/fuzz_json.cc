// libFuzzer entry point for Json::parse, which faces untrusted network bytes.
// Besides the sanitizers' own checks it asserts the serializer contract:
// whatever parses must dump to text that parses back to an equal value, and
// dumping is deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  gs::Result<gs::Json> parsed = gs::Json::parse(text);
  if (!parsed.ok()) {
    if (parsed.error().code != "bad_json") abort();
    return 0;
  }
  const std::string compact = parsed->dump();
  gs::Result<gs::Json> again = gs::Json::parse(compact);
  if (!again.ok() || !(*again == *parsed)) abort();
  if (again->dump() != compact) abort();

  gs::Result<gs::Json> pretty = gs::Json::parse(parsed->dump_pretty());
  if (!pretty.ok() || !(*pretty == *parsed)) abort();
  return 0;
}
