// ServeRegistry: the meeting point of file owners and the peer server.
#include "daemon/serve_registry.h"

#include <vector>

#include <gtest/gtest.h>

namespace gs::daemon {
namespace {

struct Event {
  Sha256Digest id;
  std::optional<PieceIndex> piece;
};

FileMeta meta_of(uint64_t size) {
  FileMeta m;
  m.size = size;
  m.piece_size = kMinPieceSize;
  m.piece_hashes.resize(m.piece_count());
  m.file_id = FileMeta::compute_id(m.size, m.piece_size, m.piece_hashes);
  return m;
}

TEST(ServeRegistry, AddFindReplaceRemove) {
  ServeRegistry reg;
  std::vector<Event> events;
  reg.set_listener([&](const Sha256Digest& id, std::optional<PieceIndex> p) { events.push_back({id, p}); });
  const FileMeta m = meta_of(3 * kMinPieceSize);
  EXPECT_EQ(reg.find(m.file_id), nullptr);

  Bitfield have(m.piece_count());
  have.set(1_piece);
  reg.add(m.file_id, Servable{"g", "partial", &m, "/tmp/x.part", &have, nullptr, nullptr});
  ASSERT_NE(reg.find(m.file_id), nullptr);
  EXPECT_EQ(reg.find(m.file_id)->path, "/tmp/x.part");
  EXPECT_EQ(reg.size(), 1u);

  reg.piece_added(m.file_id, 2_piece);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].piece, PieceIndex{2});

  // Out of range pieces and unknown ids are not passed on.
  reg.piece_added(m.file_id, 3_piece);
  reg.piece_added(Sha256Digest{}, 0_piece);
  EXPECT_EQ(events.size(), 1u);

  // Replacing (a finished download becoming a share) is silent: its peers stay.
  reg.add(m.file_id, Servable{"g", "complete", &m, "/tmp/x", nullptr, nullptr, nullptr});
  EXPECT_EQ(reg.find(m.file_id)->name, "complete");
  EXPECT_EQ(reg.find(m.file_id)->have, nullptr);
  EXPECT_EQ(events.size(), 1u);

  reg.remove(m.file_id);
  EXPECT_EQ(reg.find(m.file_id), nullptr);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[1].piece.has_value());
  EXPECT_EQ(events[1].id, m.file_id);

  reg.remove(m.file_id);  // unknown: nothing to tell
  EXPECT_EQ(events.size(), 2u);
}

TEST(ServeRegistry, ListenerSeesTheEntryGone) {
  ServeRegistry reg;
  const FileMeta m = meta_of(10);
  reg.add(m.file_id, Servable{"g", "f", &m, "/f", nullptr, nullptr, nullptr});
  bool was_gone = false;
  reg.set_listener([&](const Sha256Digest& id, std::optional<PieceIndex>) { was_gone = reg.find(id) == nullptr; });
  reg.remove(m.file_id);
  EXPECT_TRUE(was_gone);
}

TEST(ServeRegistry, WorksWithoutListener) {
  ServeRegistry reg;
  const FileMeta m = meta_of(10);
  reg.add(m.file_id, Servable{"g", "f", &m, "/f", nullptr, nullptr, nullptr});
  reg.piece_added(m.file_id, 0_piece);
  reg.remove(m.file_id);
  EXPECT_EQ(reg.size(), 0u);
}

}  // namespace
}  // namespace gs::daemon
