// Protocol constants and the validation rules every receiver applies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
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
// Names of shared files (the basename at upload, and the last component of
// the path a download lands at): 1-255 bytes, no '/', no NUL and no other
// control character (bytes 0x01-0x1f and 0x7f), not "." or "..". A name is
// one path component that stays inside the directory it is joined to, and
// prints on one line. Other bytes are allowed (gsd and gsctl further ask for
// UTF-8, which JSON carries); whoever prints one to a terminal still escapes
// it first.
bool valid_file_name(std::string_view name);
// Why `name` is not a valid file name, as the end of a sentence for an error
// message ("file name contains a control character (0x0a)"); empty when it
// is valid. Never quotes the name itself: it may hold anything.
std::string file_name_problem(std::string_view name);
// Why a path given to gsd (an upload's PATH, a download's DEST) cannot be
// used, on the same terms: it holds a NUL or another control character
// ("path contains a control character (0x1b)", with `what` for "path");
// empty when it holds none. Other path rules are the caller's.
std::string path_problem(std::string_view path, std::string_view what = "path");

}  // namespace gs
