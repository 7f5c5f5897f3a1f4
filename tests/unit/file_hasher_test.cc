#include "file_hasher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "fd.h"
#include "sandbox.h"

namespace gs {
namespace {

constexpr uint32_t kPs = 16 * 1024;

// Varied bytes so that a piece hashed at the wrong offset cannot match.
std::string content(size_t size) {
  std::string s(size, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

// The expected metadata computed the obvious way, from the bytes in memory.
FileMeta by_hand(const std::string& data, uint32_t piece_size) {
  FileMeta m;
  m.size = data.size();
  m.piece_size = piece_size;
  for (size_t off = 0; off < data.size(); off += piece_size) {
    m.piece_hashes.push_back(sha256(std::string_view(data).substr(off, piece_size)));
  }
  std::string preimage;
  for (int shift = 56; shift >= 0; shift -= 8) preimage.push_back(static_cast<char>(m.size >> shift));
  for (int shift = 24; shift >= 0; shift -= 8) preimage.push_back(static_cast<char>(piece_size >> shift));
  for (const auto& h : m.piece_hashes) preimage.append(reinterpret_cast<const char*>(h.data()), 32);
  m.file_id = sha256(preimage);
  return m;
}

TEST(FileHasher, MatchesHandComputation) {
  test::Sandbox box;
  for (size_t size : {size_t{0}, size_t{1}, size_t{kPs}, size_t{kPs + 1}, size_t{7 * kPs / 2}}) {
    const std::string data = content(size);
    const std::string path = box.write("f" + std::to_string(size), data);
    const FileMeta expected = by_hand(data, kPs);
    for (unsigned threads : {1u, 2u, 3u, 0u}) {
      auto r = hash_file(path, kPs, threads);
      ASSERT_TRUE(r.ok()) << size << "/" << threads << ": " << r.error().message;
      EXPECT_EQ(*r, expected) << size << " bytes, " << threads << " threads";
    }
  }
}

TEST(FileHasher, ManyPiecesManyThreads) {
  test::Sandbox box;
  const std::string data = content(37 * kPs + 123);
  const std::string path = box.write("big", data);
  auto r = hash_file(path, kPs, 8);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, by_hand(data, kPs));
}

TEST(FileHasher, CountsTheBytesHashed) {
  test::Sandbox box;
  const std::string data = content(5 * kPs + 7);
  const std::string path = box.write("f", data);
  for (unsigned threads : {1u, 3u}) {
    std::atomic<uint64_t> hashed{0};
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_GE(fd.get(), 0);
    auto r = hash_fd(fd.get(), path, kPs, threads, nullptr, &hashed);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(hashed.load(), data.size()) << threads << " threads";
  }
}

TEST(FileHasher, MissingFile) {
  test::Sandbox box;
  const std::string path = box.path("nope");
  auto r = hash_file(path, kPs, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "io_error");
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
}

TEST(FileHasher, Directory) {
  test::Sandbox box;
  auto r = hash_file(box.dir(), kPs, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "io_error");
  EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(box.dir()), std::string::npos) << r.error().message;
}

TEST(FileHasher, FifoIsRefusedWithoutBlocking) {
  test::Sandbox box;
  const std::string path = box.path("fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto r = hash_file(path, kPs, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos) << r.error().message;
}

TEST(FileHasher, Unreadable) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  test::Sandbox box;
  const std::string path = box.write("secret", "data");
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  auto r = hash_file(path, kPs, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "io_error");
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
}

TEST(FileHasher, BadPieceSize) {
  test::Sandbox box;
  const std::string path = box.write("f", "abc");
  auto r = hash_file(path, 1000, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_file_meta");
}

TEST(FileHasher, Cancelled) {
  test::Sandbox box;
  const std::string path = box.write("f", content(4 * kPs));
  std::atomic<bool> cancel{true};
  auto r = hash_file(path, kPs, 2, &cancel);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "cancelled");
}

TEST(FileHasher, HashPieceRechecksDisk) {
  test::Sandbox box;
  const std::string data = content(2 * kPs + 10);
  const std::string path = box.write("f", data);
  const FileMeta meta = by_hand(data, kPs);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string buffer;
  for (PieceIndex i : all_pieces(meta.piece_count())) {
    auto h = hash_piece(fd, meta, i, buffer);
    ASSERT_TRUE(h.ok()) << h.error().message;
    EXPECT_EQ(*h, meta.piece_hash(i)) << i;
  }
  EXPECT_FALSE(hash_piece(fd, meta, 3_piece, buffer).ok());
  ASSERT_EQ(::truncate(path.c_str(), 2 * kPs + 5), 0);
  auto shortened = hash_piece(fd, meta, 2_piece, buffer);
  ASSERT_FALSE(shortened.ok());
  EXPECT_EQ(shortened.error().code, "io_error");
  ::close(fd);
}

}  // namespace
}  // namespace gs
