// A file opened once to be sent in ranges over links (FramedConn::send_frame):
// over a plain link its bytes go from the page cache to the socket with
// sendfile, never through our memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "result.h"

struct evbuffer_file_segment;

namespace gs {

class FileSource {
 public:
  // Opens `path` read-only, `size` bytes of it to be sent. A symbolic link
  // at `path` is not followed (io_error): what is served is the file named.
  static Result<std::unique_ptr<FileSource>> open(const std::string& path, uint64_t size);
  ~FileSource();
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  int fd() const { return fd_; }
  // Asks the kernel to start reading a range now, so that the send finds it
  // in the page cache and the loop does not wait on the disk.
  void prefetch(uint64_t offset, uint64_t length) const;

  // For FramedConn. Ranges already queued on a link hold their own reference,
  // so a FileSource may go while they are still being sent.
  evbuffer_file_segment* segment() const { return segment_; }

 private:
  FileSource(std::string path, uint64_t size, int fd, evbuffer_file_segment* segment)
      : path_(std::move(path)), size_(size), fd_(fd), segment_(segment) {}
  std::string path_;
  uint64_t size_;
  int fd_;  // owned by segment_
  evbuffer_file_segment* segment_;
};

}  // namespace gs
