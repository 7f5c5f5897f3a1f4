// Byte counts as people read them: "512 B", "1.5 KiB", "3.2 GiB". One
// spelling for gsd's messages (disk trouble, STATUS=) and gsctl's tables.
#pragma once

#include <cstdint>
#include <string>

namespace gs {

// Below 1 KiB in bytes, else one decimal in the largest binary unit that
// keeps the number under 1024 as printed (no "1024.0 KiB").
std::string size_text(uint64_t bytes);

}  // namespace gs
