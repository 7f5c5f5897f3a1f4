#include "file_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <event2/buffer.h>

namespace gs {

Result<std::unique_ptr<FileSource>> FileSource::open(const std::string& path, uint64_t size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) return make_error("io_error", "cannot open " + path + ": " + std::strerror(errno));
  evbuffer_file_segment* segment =
      evbuffer_file_segment_new(fd, 0, static_cast<ev_off_t>(size), EVBUF_FS_CLOSE_ON_FREE);
  if (!segment) {
    ::close(fd);
    return make_error("io_error", "cannot send " + path + ": libevent refused it as a file segment");
  }
  return std::unique_ptr<FileSource>(new FileSource(path, size, fd, segment));
}

FileSource::~FileSource() { evbuffer_file_segment_free(segment_); }

void FileSource::prefetch(uint64_t offset, uint64_t length) const {
  (void)posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(length), POSIX_FADV_WILLNEED);
}

}  // namespace gs
