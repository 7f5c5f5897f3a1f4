// Hashes a file on disk into its FileMeta, streaming: each thread holds one
// piece buffer, so memory use is threads * piece_size whatever the file size.
// Blocking: call it from a worker thread, never from an event loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "crypto.h"
#include "file_meta.h"
#include "result.h"

namespace gs {

// threads == 0 means std::thread::hardware_concurrency(). Errors:
// "io_error" (cannot open or read, not a regular file, changed while being
// hashed), "bad_file_meta" (bad piece size, file too large for the format),
// "cancelled" (*cancel became true).
Result<FileMeta> hash_file(const std::string& path, uint32_t piece_size, unsigned threads,
                           const std::atomic<bool>* cancel = nullptr);
// The same for a file the caller opened (and keeps open); `path` is for
// messages only. `hashed`, when given, grows by each piece's length as it is
// hashed, for another thread to show the progress.
Result<FileMeta> hash_fd(int fd, const std::string& path, uint32_t piece_size, unsigned threads,
                         const std::atomic<bool>* cancel = nullptr,
                         std::atomic<uint64_t>* hashed = nullptr);

// Reads piece `piece` of `meta` from `fd` into `buffer` (reused across calls
// to avoid an allocation per piece) and hashes it, to re-check pieces already
// on disk. A short read (file shorter than meta.size) is an "io_error".
// Compare the result with meta.piece_hashes[piece].
Result<Sha256Digest> hash_piece(int fd, const FileMeta& meta, PieceIndex piece,
                                std::string& buffer);

}  // namespace gs
