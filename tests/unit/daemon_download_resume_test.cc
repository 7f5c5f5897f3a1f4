// Resume after a crash or a change behind the daemon's back: the pure plan,
// the sparse-file scan that finds pieces written after the last commit, and
// how pieces are written (direct or through the page cache).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include "daemon/download_part.h"
#include "daemon_download_fakes.h"
#include "file_hasher.h"
#include "sandbox.h"

namespace gs::daemon {
namespace {

constexpr uint32_t kPiece = 16384;

std::vector<PieceIndex> pieces(std::initializer_list<uint32_t> l) {
  std::vector<PieceIndex> out;
  for (uint32_t p : l) out.push_back(PieceIndex{p});
  return out;
}

Bitfield bits(uint32_t count, std::initializer_list<uint32_t> set) {
  Bitfield b(count);
  for (uint32_t p : set) b.set(PieceIndex{p});
  return b;
}

TEST(PlanResume, UnchangedFileKeepsWhatWasCommitted) {
  const FileMeta meta = test::meta_of(test::make_content(8 * kPiece), kPiece);
  const PartStat st{static_cast<int64_t>(meta.size), 42};
  const auto plan = plan_resume(meta, bits(8, {0, 3}), st, st, {});
  EXPECT_FALSE(plan.changed);
  EXPECT_EQ(plan.keep, pieces({0, 3}));
  EXPECT_TRUE(plan.check.empty());
  EXPECT_TRUE(plan.lost.empty());
}

TEST(PlanResume, DataAfterTheLastCommitIsRechecked) {
  const FileMeta meta = test::meta_of(test::make_content(8 * kPiece), kPiece);
  const PartStat saved{static_cast<int64_t>(meta.size), 42};
  const PartStat now{static_cast<int64_t>(meta.size), 43};  // written since: mtime moved
  // Data in piece 0 (committed), piece 2 and the first bytes of piece 5.
  const std::vector<Region> regions{{0, kPiece}, {2 * kPiece, kPiece}, {5 * kPiece, 4096}};
  const auto plan = plan_resume(meta, bits(8, {0}), saved, now, regions);
  EXPECT_TRUE(plan.changed);
  EXPECT_TRUE(plan.keep.empty());  // changed: even committed pieces are re-hashed
  EXPECT_EQ(plan.check, pieces({0, 2, 5}));
  EXPECT_TRUE(plan.lost.empty());
}

TEST(PlanResume, TruncatedFileLosesPiecesPastTheEnd) {
  const FileMeta meta = test::meta_of(test::make_content(8 * kPiece + 100), kPiece);
  const PartStat saved{static_cast<int64_t>(meta.size), 42};
  const PartStat now{static_cast<int64_t>(2 * kPiece + 10), 42};  // same mtime, but shorter
  const std::vector<Region> regions{{0, 2 * kPiece + 10}};
  const auto plan = plan_resume(meta, bits(9, {0, 1, 2, 5, 8}), saved, now, regions);
  EXPECT_TRUE(plan.changed);
  EXPECT_EQ(plan.check, pieces({0, 1}));
  EXPECT_EQ(plan.lost, pieces({2, 5, 8}));
}

TEST(PlanResume, UnknownSavedStateIsTreatedAsChanged) {
  const FileMeta meta = test::meta_of(test::make_content(2 * kPiece), kPiece);
  const PartStat now{static_cast<int64_t>(meta.size), 1};
  const auto plan = plan_resume(meta, bits(2, {1}), PartStat{-1, 0}, now, {});
  EXPECT_TRUE(plan.changed);
  EXPECT_EQ(plan.check, pieces({1}));
}

TEST(PlanResume, EmptyFile) {
  const FileMeta meta = test::meta_of("", kPiece);
  const auto plan = plan_resume(meta, Bitfield(0), PartStat{0, 0}, PartStat{0, 0}, {});
  EXPECT_TRUE(plan.keep.empty() && plan.check.empty() && plan.lost.empty());
}

class SparseFile : public ::testing::Test {
 protected:
  void SetUp() override {
    content_ = test::make_content(8 * kPiece + 777);
    meta_ = test::meta_of(content_, kPiece);
    auto f = PartFile::create(sb_.path("x.gs-part"), meta_.size, true);
    ASSERT_TRUE(f.ok()) << f.error().message;
    part_ = *f;
  }
  void write(PieceIndex p) {
    ASSERT_TRUE(write_piece(*part_, meta_.piece_offset(p),
                            std::string_view(content_).substr(meta_.piece_offset(p), meta_.piece_length(p)))
                    .ok());
  }
  std::vector<PieceIndex> verify(const std::vector<PieceIndex>& candidates) {
    std::vector<PieceIndex> ok;
    std::string buf;
    for (PieceIndex p : candidates) {
      auto h = hash_piece(part_->fd(), meta_, p, buf);
      if (h && *h == meta_.piece_hash(p)) ok.push_back(p);
    }
    return ok;
  }

  test::Sandbox sb_;
  std::string content_;
  FileMeta meta_;
  std::shared_ptr<PartFile> part_;
};

TEST_F(SparseFile, CreatedSparseAtFullSize) {
  auto st = stat_part(part_->fd());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, static_cast<int64_t>(meta_.size));
  auto regions = data_regions(part_->fd(), meta_.size);
  ASSERT_TRUE(regions.ok());
  EXPECT_TRUE(regions->empty()) << "a new partial file must be all hole";
}

TEST_F(SparseFile, PiecesWrittenAfterTheLastCommitAreRecovered) {
  // Committed: piece 1. Written afterwards, then a crash: pieces 4 and 8 (the short last one).
  write(1_piece);
  auto saved = stat_part(part_->fd());
  ASSERT_TRUE(saved.ok());
  write(4_piece);
  write(8_piece);
  // A piece cut short by the crash: half written.
  ASSERT_TRUE(write_piece(*part_, meta_.piece_offset(6_piece), std::string_view(content_).substr(meta_.piece_offset(6_piece), 8192)).ok());
  auto regions = data_regions(part_->fd(), meta_.size);
  ASSERT_TRUE(regions.ok());
  auto now = stat_part(part_->fd());
  ASSERT_TRUE(now.ok());
  // Force a visible change even on a coarse-mtime file system.
  PartStat old = *saved;
  old.mtime_ns -= 1;
  const auto plan = plan_resume(meta_, bits(9, {1}), old, *now, *regions);
  EXPECT_EQ(plan.check, pieces({1, 4, 6, 8}));
  EXPECT_EQ(verify(plan.check), pieces({1, 4, 8}));  // 6 is incomplete: fetched again
}

TEST_F(SparseFile, TruncatedBehindOurBackIsDetected) {
  for (PieceIndex p : all_pieces(6)) write(p);
  auto saved = stat_part(part_->fd());
  ASSERT_TRUE(saved.ok());
  ASSERT_EQ(ftruncate(part_->fd(), 2 * kPiece), 0);
  auto now = stat_part(part_->fd());
  ASSERT_TRUE(now.ok());
  auto regions = data_regions(part_->fd(), static_cast<uint64_t>(now->size));
  ASSERT_TRUE(regions.ok());
  const auto plan = plan_resume(meta_, bits(9, {0, 1, 2, 3, 4, 5}), *saved, *now, *regions);
  EXPECT_TRUE(plan.changed);
  EXPECT_EQ(plan.check, pieces({0, 1}));
  EXPECT_EQ(plan.lost, pieces({2, 3, 4, 5}));
  // Sized back up, the lost region reads as zeros and would never verify.
  ASSERT_EQ(ftruncate(part_->fd(), static_cast<off_t>(meta_.size)), 0);
  EXPECT_EQ(verify(pieces({0, 1, 2})), pieces({0, 1}));
}

TEST_F(SparseFile, FinalizeRefusesToReplaceUnlessForced) {
  for (PieceIndex p : all_pieces(meta_.piece_count())) write(p);
  const std::string dest = sb_.write("x", "already here");
  auto s = finalize_part(*part_, base_name(dest), meta_, /*replace=*/false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "dest_exists");
  EXPECT_EQ(access(part_->path().c_str(), F_OK), 0);  // nothing lost
  ASSERT_TRUE(finalize_part(*part_, base_name(dest), meta_, /*replace=*/true).ok());
  EXPECT_EQ(access(part_->path().c_str(), F_OK), -1);
  auto reopened = PartFile::open(dest, true);
  ASSERT_TRUE(reopened.ok());
  std::string buf;
  auto h = hash_piece((*reopened)->fd(), meta_, 3_piece, buf);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, meta_.piece_hash(3_piece));
}

// An earlier run renamed the file into place and died before recording it:
// a DEST with exactly the file's bytes is ours, the partial file goes.
TEST_F(SparseFile, FinalizeRecognisesItsOwnOutputByContent) {
  for (PieceIndex p : all_pieces(meta_.piece_count())) write(p);
  const std::string dest = sb_.write("x", content_);
  ASSERT_TRUE(finalize_part(*part_, base_name(dest), meta_, /*replace=*/false).ok());
  EXPECT_EQ(access(part_->path().c_str(), F_OK), -1);
  auto ours = holds_file(dest, meta_);
  ASSERT_TRUE(ours.ok());
  EXPECT_TRUE(*ours);
}

// Same size, one byte different: someone else's file, refused.
TEST_F(SparseFile, FinalizeRefusesAFileThatDiffersInOneByte) {
  for (PieceIndex p : all_pieces(meta_.piece_count())) write(p);
  std::string other = content_;
  other[other.size() / 2] ^= 1;
  const std::string dest = sb_.write("x", other);
  auto s = finalize_part(*part_, base_name(dest), meta_, /*replace=*/false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "dest_exists");
  EXPECT_EQ(access(part_->path().c_str(), F_OK), 0);
}

TEST(HoldsFile, MissingShorterAndEqual) {
  test::Sandbox sb;
  const std::string content = test::make_content(3 * kPiece + 7);
  const FileMeta meta = test::meta_of(content, kPiece);
  EXPECT_FALSE(*holds_file(sb.path("none"), meta));
  EXPECT_FALSE(*holds_file(sb.write("short", content.substr(0, content.size() - 1)), meta));
  EXPECT_TRUE(*holds_file(sb.write("same", content), meta));
}

// Which of a file's pages [offset, offset + length) are in the page cache.
std::vector<bool> cached(int fd, uint64_t offset, size_t length) {
  const long page = sysconf(_SC_PAGESIZE);
  void* map = mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (map == MAP_FAILED) return {};
  std::vector<unsigned char> v((length + static_cast<size_t>(page) - 1) / static_cast<size_t>(page));
  const int rc = mincore(map, length, v.data());
  munmap(map, length);
  if (rc != 0) return {};
  return std::vector<bool>(v.begin(), v.end());
}

bool any_cached(const std::vector<bool>& pages) {
  for (bool b : pages) {
    if (b) return true;
  }
  return false;
}

TEST(WritePiece, AlignedPiecesBypassThePageCacheOthersDoNot) {
  test::Sandbox sb;
  auto f = PartFile::create(sb.path("d.gs-part"), 1 << 20, true);
  ASSERT_TRUE(f.ok()) << f.error().message;
  PartFile& part = **f;
  if (part.direct_fd() < 0) GTEST_SKIP() << "no O_DIRECT on " << sb.dir();
  constexpr size_t kLen = 64 * 1024;
  std::unique_ptr<char, void (*)(void*)> buf(static_cast<char*>(std::aligned_alloc(kDirectIoAlign, kLen + kDirectIoAlign)),
                                             &std::free);
  for (size_t i = 0; i < kLen + kDirectIoAlign; ++i) buf.get()[i] = static_cast<char>(i * 7);
  const std::string_view aligned(buf.get(), kLen);
  const std::string_view unaligned(buf.get() + 1, kLen);
  ASSERT_TRUE(write_piece(part, 0, aligned).ok());
  ASSERT_TRUE(write_piece(part, kLen + 1, unaligned).ok());
  EXPECT_FALSE(any_cached(cached(part.fd(), 0, kLen)));
  EXPECT_TRUE(any_cached(cached(part.fd(), kLen, kLen)));
  // Either way the bytes are there.
  std::string back(kLen, '\0');
  ASSERT_EQ(pread(part.fd(), back.data(), kLen, 0), static_cast<ssize_t>(kLen));
  EXPECT_EQ(back, aligned);
  ASSERT_EQ(pread(part.fd(), back.data(), kLen, kLen + 1), static_cast<ssize_t>(kLen));
  EXPECT_EQ(back, unaligned);
  EXPECT_GE(part.direct_fd(), 0);  // nothing made it give up direct writes
}

// A direct write allocates the chunk around it (so that the next direct
// writes there overwrite allocated blocks and may overlap), never past the
// file's size, and keeps every byte written before.
TEST(WritePiece, ADirectWriteAllocatesItsChunkAndKeepsWhatIsThere) {
  test::Sandbox sb;
  const uint64_t size = kAllocChunk + kAllocChunk / 2;  // a whole chunk and half of one
  auto f = PartFile::create(sb.path("d.gs-part"), size, true);
  ASSERT_TRUE(f.ok()) << f.error().message;
  PartFile& part = **f;
  if (part.direct_fd() < 0) GTEST_SKIP() << "no O_DIRECT on " << sb.dir();
  if (fallocate(part.fd(), FALLOC_FL_KEEP_SIZE, 0, 4096) != 0) GTEST_SKIP() << "no fallocate on " << sb.dir();
  ASSERT_EQ(fallocate(part.fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), 0);
  auto blocks = [&] {
    struct stat st {};
    EXPECT_EQ(fstat(part.fd(), &st), 0);
    return static_cast<uint64_t>(st.st_blocks) * 512;
  };
  // A piece written through the page cache earlier, in the second chunk.
  ASSERT_TRUE(write_piece(part, kAllocChunk + 100, "before").ok());
  constexpr size_t kLen = 64 * 1024;
  std::unique_ptr<char, void (*)(void*)> buf(static_cast<char*>(std::aligned_alloc(kDirectIoAlign, kLen)), &std::free);
  std::memset(buf.get(), 'd', kLen);
  const std::string_view piece(buf.get(), kLen);

  EXPECT_LT(blocks(), kAllocChunk / 2);
  ASSERT_TRUE(write_piece(part, kLen, piece).ok());  // in the first chunk: all of it allocated
  EXPECT_GE(blocks(), kAllocChunk);
  EXPECT_LT(blocks(), kAllocChunk + kAllocChunk / 4);
  ASSERT_TRUE(write_piece(part, kAllocChunk + kAllocChunk / 4, piece).ok());  // the second: to the file's end
  EXPECT_GE(blocks(), size);
  EXPECT_LT(blocks(), size + kAllocChunk / 4);

  struct stat st {};
  ASSERT_EQ(fstat(part.fd(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), size);  // not a byte longer
  std::string back(kLen, '\0');
  ASSERT_EQ(pread(part.fd(), back.data(), kLen, kLen), static_cast<ssize_t>(kLen));
  EXPECT_EQ(back, piece);
  ASSERT_EQ(pread(part.fd(), back.data(), kLen, kAllocChunk + kAllocChunk / 4), static_cast<ssize_t>(kLen));
  EXPECT_EQ(back, piece);
  ASSERT_EQ(pread(part.fd(), back.data(), 6, kAllocChunk + 100), 6);
  EXPECT_EQ(back.substr(0, 6), "before");
  ASSERT_EQ(pread(part.fd(), back.data(), kLen, 0), static_cast<ssize_t>(kLen));
  EXPECT_EQ(back, std::string(kLen, '\0'));  // allocated, never written: zeros
}

TEST(WritePiece, WithoutDirectIoPiecesGoThroughThePageCache) {
  test::Sandbox sb;
  auto f = PartFile::create(sb.path("d.gs-part"), 1 << 20, false);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)->direct_fd(), -1);
  constexpr size_t kLen = 64 * 1024;
  std::unique_ptr<char, void (*)(void*)> buf(static_cast<char*>(std::aligned_alloc(kDirectIoAlign, kLen)), &std::free);
  std::memset(buf.get(), 'z', kLen);
  ASSERT_TRUE(write_piece(**f, 0, std::string_view(buf.get(), kLen)).ok());
  EXPECT_TRUE(any_cached(cached((*f)->fd(), 0, kLen)));
}

TEST(PartFileOpen, MissingIsItsOwnError) {
  test::Sandbox sb;
  auto f = PartFile::open(sb.path("nope"), true);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "missing");
}

// ---------------------------------------------------------------- links

std::string read_all(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "(missing)";
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

bool is_link(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

TEST(DestDir, RefusesASymbolicLinkAnywhereInItsPath) {
  test::Sandbox sb;
  ASSERT_EQ(::mkdir(sb.path("real").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(sb.path("real/sub").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(sb.path("real").c_str(), sb.path("link").c_str()), 0);
  EXPECT_TRUE(DestDir::open(sb.path("real/sub")).ok());
  for (const std::string& p : {sb.path("link"), sb.path("link/sub")}) {
    auto d = DestDir::open(p);
    ASSERT_FALSE(d.ok()) << p;
    EXPECT_EQ(d.error().code, "io_error");
    EXPECT_NE(d.error().message.find(sb.path("link") + " is a symbolic link"), std::string::npos) << d.error().message;
  }
  EXPECT_FALSE(DestDir::open(sb.path("real/../real")).ok());
  EXPECT_FALSE(DestDir::open("relative/dir").ok());
  auto root = DestDir::open("/");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ((*root)->path_of("x"), "/x");
}

// The directory is held open: renamed away and replaced by a link to
// elsewhere, it still gets the partial file and the final rename.
TEST(DestDir, ADirectorySwappedForALinkChangesNothing) {
  test::Sandbox sb;
  const std::string content = test::make_content(3 * kPiece + 5);
  const FileMeta meta = test::meta_of(content, kPiece);
  ASSERT_EQ(::mkdir(sb.path("out").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(sb.path("elsewhere").c_str(), 0700), 0);
  auto dir = DestDir::open(sb.path("out"));
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(::rename(sb.path("out").c_str(), sb.path("moved").c_str()), 0);
  ASSERT_EQ(::symlink(sb.path("elsewhere").c_str(), sb.path("out").c_str()), 0);
  auto part = PartFile::create(*dir, "f.bin.gs-part", meta.size, false);
  ASSERT_TRUE(part.ok()) << part.error().message;
  ASSERT_TRUE(write_piece(**part, 0, content).ok());
  ASSERT_TRUE(finalize_part(**part, "f.bin", meta, /*replace=*/false).ok());
  EXPECT_EQ(read_all(sb.path("moved/f.bin")), content);
  EXPECT_EQ(::access(sb.path("elsewhere/f.bin").c_str(), F_OK), -1);
  EXPECT_EQ(::access(sb.path("elsewhere/f.bin.gs-part").c_str(), F_OK), -1);
}

TEST(PartFileLinks, CreateRemovesALinkAndNeverWritesThroughIt) {
  test::Sandbox sb;
  const std::string victim = sb.write("victim", "precious");
  ASSERT_EQ(::symlink(victim.c_str(), sb.path("d.gs-part").c_str()), 0);
  auto f = PartFile::create(sb.path("d.gs-part"), 1 << 16, false);
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_TRUE(write_piece(**f, 0, "overwritten?").ok());
  EXPECT_EQ(read_all(victim), "precious");
  EXPECT_FALSE(is_link(sb.path("d.gs-part")));
  // A hard link of another file is not emptied either: it is replaced.
  const std::string other = sb.write("other", "keep me");
  ASSERT_EQ(::unlink(sb.path("d.gs-part").c_str()), 0);
  ASSERT_EQ(::link(other.c_str(), sb.path("d.gs-part").c_str()), 0);
  auto g = PartFile::create(sb.path("d.gs-part"), 1 << 16, false);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(read_all(other), "keep me");
}

TEST(PartFileLinks, OpenRefusesALinkAndAFileWithOtherLinks) {
  test::Sandbox sb;
  const std::string victim = sb.write("victim", "precious");
  ASSERT_EQ(::symlink(victim.c_str(), sb.path("d.gs-part").c_str()), 0);
  auto f = PartFile::open(sb.path("d.gs-part"), false);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, "io_error");
  EXPECT_NE(f.error().message.find("is a symbolic link"), std::string::npos) << f.error().message;
  ASSERT_EQ(::unlink(sb.path("d.gs-part").c_str()), 0);
  ASSERT_EQ(::link(victim.c_str(), sb.path("d.gs-part").c_str()), 0);
  auto g = PartFile::open(sb.path("d.gs-part"), true);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("other hard links"), std::string::npos) << g.error().message;
  EXPECT_EQ(read_all(victim), "precious");
}

TEST_F(SparseFile, ALinkAtDestIsRefusedOrReplacedNeverFollowed) {
  for (PieceIndex p : all_pieces(meta_.piece_count())) write(p);
  // Even a link to a file with exactly the right bytes is not ours.
  const std::string target = sb_.write("target", content_);
  const std::string dest = sb_.path("x");
  ASSERT_EQ(::symlink(target.c_str(), dest.c_str()), 0);
  auto s = finalize_part(*part_, "x", meta_, /*replace=*/false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "dest_exists");
  EXPECT_TRUE(is_link(dest));
  EXPECT_EQ(access(part_->path().c_str(), F_OK), 0);
  EXPECT_FALSE(*holds_file(dest, meta_));
  // Forced: the link itself is replaced; its target is untouched.
  const std::string victim = sb_.write("victim", "precious");
  ASSERT_EQ(::unlink(dest.c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), dest.c_str()), 0);
  ASSERT_TRUE(finalize_part(*part_, "x", meta_, /*replace=*/true).ok());
  EXPECT_FALSE(is_link(dest));
  EXPECT_EQ(read_all(dest), content_);
  EXPECT_EQ(read_all(victim), "precious");
}

TEST_F(SparseFile, APartialFileSwappedOutIsNotRenamed) {
  for (PieceIndex p : all_pieces(meta_.piece_count())) write(p);
  const std::string victim = sb_.write("victim", "precious");
  ASSERT_EQ(::rename(part_->path().c_str(), sb_.path("aside").c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), part_->path().c_str()), 0);
  auto s = finalize_part(*part_, "x", meta_, /*replace=*/true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "io_error");
  EXPECT_NE(s.error().message.find("was replaced"), std::string::npos) << s.error().message;
  EXPECT_EQ(::access(sb_.path("x").c_str(), F_OK), -1);
  EXPECT_EQ(read_all(victim), "precious");
}

}  // namespace
}  // namespace gs::daemon
