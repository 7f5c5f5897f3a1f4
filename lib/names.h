// Protocol constants and the validation rules every receiver applies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gs {

inline constexpr int kTrackerProtoVersion = 1;
inline constexpr size_t kTrackerMaxFrame = 1 << 20;
// Most piece hashes one file may have in the tracker's catalogue (15,360).
// file_info answers carry every hash (64 hex digits each) and a list of
// peers, and must fit in one frame; this leaves 64 KiB of the 1 MiB for the
// rest. At 512 KiB pieces that is 7.5 GiB; gsd picks larger pieces above it.
inline constexpr uint32_t kMaxCataloguePieces = (kTrackerMaxFrame - 64 * 1024) / 64;
static_assert(kMaxCataloguePieces == 15360, "docs/protocol.md states this number");
inline constexpr size_t kControlMaxLine = 1 << 20;
inline constexpr size_t kMaxNameLength = 64;
inline constexpr size_t kMaxPasswordLength = 1024;
inline constexpr size_t kMaxFileNameLength = 255;

// User and group names: 1-64 of [A-Za-z0-9._-], not starting with '.' or '-'.
bool valid_name(std::string_view name);
bool valid_password(std::string_view password);
// Names of shared files (the basename at upload): 1-255 bytes, no '/' and no
// NUL, not "." or "..". Any other byte is allowed, so whoever prints one to a
// terminal escapes control characters first.
bool valid_file_name(std::string_view name);

}  // namespace gs
