#include "download_store.h"

#include <ctime>

#include "bitfield.h"
#include "disk_retry.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "schema.h"

namespace gs::daemon {
namespace {

// steps[i] takes the download tables from version i to i + 1 (lib/schema.h).
// Shipped steps are never edited; a change is a new step at the end.
constexpr const char* kSchemaSteps[] = {
    // 0 -> 1
    "CREATE TABLE downloads("
    "  id INTEGER PRIMARY KEY,"
    "  user TEXT NOT NULL,"
    "  grp TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  dest TEXT NOT NULL,"
    "  part_path TEXT NOT NULL,"
    "  force_replace INTEGER NOT NULL,"
    "  file_id TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  piece_size INTEGER NOT NULL,"
    "  hashes TEXT NOT NULL,"
    "  have BLOB NOT NULL,"
    "  state TEXT NOT NULL,"
    "  error TEXT NOT NULL,"
    "  received_bytes INTEGER NOT NULL,"
    "  refetched_bytes INTEGER NOT NULL,"
    "  sources TEXT NOT NULL,"
    "  part_size INTEGER NOT NULL,"
    "  part_mtime_ns INTEGER NOT NULL,"
    "  created INTEGER NOT NULL);",
    // 1 -> 2: paused by the disk (a write or a sync failed), retried by itself
    "ALTER TABLE downloads ADD COLUMN disk_trouble TEXT NOT NULL DEFAULT '';",
};
static_assert(std::size(kSchemaSteps) == DownloadStore::kSchemaVersion,
              "append a step and bump kSchemaVersion together");

// Releases before schema_version kept the version in a one-row table of its
// own; it goes with the transaction that moves the version over.
Result<int64_t> take_download_schema(Db& db) {
  auto exists = has_table(db, "download_schema");
  if (!exists) return exists.error();
  if (!*exists) return int64_t{0};
  int64_t version = 0;
  {
    auto q = db.prepare("SELECT max(version) FROM download_schema");
    auto row = q.step();
    if (!row) return make_error("db_error", "cannot read " + db.path() + ": " + row.error().message);
    if (*row && !q.column_is_null(0)) version = q.column_int(0);
  }
  if (auto s = db.exec("DROP TABLE download_schema"); !s) {
    return make_error("db_error", "cannot update " + db.path() + ": " + s.error().message);
  }
  return version;
}

std::string sources_json(const std::vector<SourceCount>& sources) {
  Json out = Json::array();
  for (const SourceCount& s : sources) {
    Json item = Json::object();
    item["user"] = s.user;
    item["addr"] = s.addr;
    item["bytes"] = s.bytes;
    out.push_back(std::move(item));
  }
  return out.dump();
}

Result<std::vector<SourceCount>> parse_sources(const std::string& text) {
  auto j = Json::parse(text);
  if (!j || !j->is_array()) return make_error("bad_row", "sources is not a JSON array");
  std::vector<SourceCount> out;
  for (const Json& item : j->as_array()) {
    auto user = item.get_string("user");
    auto addr = item.get_string("addr");
    auto bytes = item.get_int("bytes");
    if (!user || !valid_name(*user) || !addr || !bytes || *bytes < 0) {
      return make_error("bad_row", "a source without a valid user, addr and bytes");
    }
    out.push_back({*user, *addr, static_cast<uint64_t>(*bytes)});
  }
  return out;
}

bool known_state(const std::string& s) {
  return s == "downloading" || s == "paused" || s == "complete" || s == "failed";
}

// Only a paused download can be paused by its disk.
bool known_trouble(const std::string& trouble, const std::string& state) {
  return trouble.empty() || (state == "paused" && trouble_from_name(trouble));
}

}  // namespace

Result<std::unique_ptr<DownloadStore>> DownloadStore::open(const std::string& db_path) {
  auto db = Db::open(db_path);
  if (!db) return db.error();
  std::unique_ptr<DownloadStore> store(new DownloadStore(std::move(*db)));
  if (auto s = migrate(*store->db_, kSchemaComponent, kSchemaSteps, take_download_schema); !s) return s.error();
  return store;
}

Result<std::vector<DownloadRecord>> DownloadStore::load_all() {
  auto q = db_->prepare(
      "SELECT id, user, grp, name, dest, part_path, force_replace, file_id, size, piece_size, hashes, have, state, error,"
      " received_bytes, refetched_bytes, sources, part_size, part_mtime_ns, created, disk_trouble FROM downloads"
      " ORDER BY id");
  std::vector<DownloadRecord> out;
  while (true) {
    auto row = q.step();
    if (!row) return make_error("state_error", "cannot read the downloads from " + db_->path() + ": " + row.error().message);
    if (!*row) break;
    DownloadRecord r;
    r.id = q.column_int(0);
    r.user = q.column_text(1);
    r.group = q.column_text(2);
    r.name = q.column_text(3);
    r.dest = q.column_text(4);
    r.part_path = q.column_text(5);
    r.force = q.column_int(6) != 0;
    const std::string file_id = q.column_text(7);
    const int64_t size = q.column_int(8);
    const int64_t piece_size = q.column_int(9);
    const std::string hashes = q.column_text(10);
    r.have = q.column_text(11);
    r.state = q.column_text(12);
    r.error = q.column_text(13);
    const int64_t received = q.column_int(14);
    const int64_t refetched = q.column_int(15);
    const std::string sources = q.column_text(16);
    r.part_size = q.column_int(17);
    r.part_mtime_ns = q.column_int(18);
    r.created = q.column_int(19);
    r.disk_trouble = q.column_text(20);

    const auto skip = [&](const std::string& why) {
      log_error("download #", r.id, " in ", db_->path(), " is damaged (", why, "); skipping it");
    };
    if (!valid_name(r.user) || !valid_name(r.group) || !valid_file_name(r.name) || r.dest.empty() ||
        r.part_path.empty() || !known_state(r.state) || !known_trouble(r.disk_trouble, r.state) || received < 0 ||
        refetched < 0 || size < 0 || piece_size <= 0 || piece_size > UINT32_MAX) {
      skip("a field is out of range");
      continue;
    }
    auto meta = FileMeta::from_parts(static_cast<uint64_t>(size), static_cast<uint32_t>(piece_size), hashes, file_id);
    if (!meta) {
      skip(meta.error().message);
      continue;
    }
    r.meta = std::move(*meta);
    if (!Bitfield::from_bytes(r.have, r.meta.piece_count())) {
      skip("the piece bitmap does not fit the file");
      continue;
    }
    auto src = parse_sources(sources);
    if (!src) {
      skip(src.error().message);
      continue;
    }
    r.sources = std::move(*src);
    r.received_bytes = static_cast<uint64_t>(received);
    r.refetched_bytes = static_cast<uint64_t>(refetched);
    out.push_back(std::move(r));
  }
  return out;
}

Status DownloadStore::insert(DownloadRecord& r) {
  if (r.created == 0) r.created = static_cast<int64_t>(std::time(nullptr));
  auto st = db_->prepare(
      "INSERT INTO downloads(user, grp, name, dest, part_path, force_replace, file_id, size, piece_size, hashes, have,"
      " state, error, received_bytes, refetched_bytes, sources, part_size, part_mtime_ns, created, disk_trouble)"
      " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  st.bind(1, std::string_view(r.user))
      .bind(2, std::string_view(r.group))
      .bind(3, std::string_view(r.name))
      .bind(4, std::string_view(r.dest))
      .bind(5, std::string_view(r.part_path))
      .bind(6, int64_t{r.force ? 1 : 0})
      .bind(7, std::string_view(r.meta.file_id_hex()))
      .bind(8, static_cast<int64_t>(r.meta.size))
      .bind(9, static_cast<int64_t>(r.meta.piece_size))
      .bind(10, std::string_view(r.meta.hashes_hex()))
      .bind_blob(11, r.have)
      .bind(12, std::string_view(r.state))
      .bind(13, std::string_view(r.error))
      .bind(14, static_cast<int64_t>(r.received_bytes))
      .bind(15, static_cast<int64_t>(r.refetched_bytes))
      .bind(16, std::string_view(sources_json(r.sources)))
      .bind(17, r.part_size)
      .bind(18, r.part_mtime_ns)
      .bind(19, r.created)
      .bind(20, std::string_view(r.disk_trouble));
  if (auto s = st.run(); !s) return s.error();
  r.id = db_->last_insert_id();
  return Ok{};
}

Status DownloadStore::save(const DownloadRecord& r) {
  auto st = db_->prepare(
      "UPDATE downloads SET dest = ?, part_path = ?, force_replace = ?, have = ?, state = ?, error = ?, received_bytes = ?,"
      " refetched_bytes = ?, sources = ?, part_size = ?, part_mtime_ns = ?, disk_trouble = ? WHERE id = ?");
  st.bind(1, std::string_view(r.dest))
      .bind(2, std::string_view(r.part_path))
      .bind(3, int64_t{r.force ? 1 : 0})
      .bind_blob(4, r.have)
      .bind(5, std::string_view(r.state))
      .bind(6, std::string_view(r.error))
      .bind(7, static_cast<int64_t>(r.received_bytes))
      .bind(8, static_cast<int64_t>(r.refetched_bytes))
      .bind(9, std::string_view(sources_json(r.sources)))
      .bind(10, r.part_size)
      .bind(11, r.part_mtime_ns)
      .bind(12, std::string_view(r.disk_trouble))
      .bind(13, r.id);
  return st.run();
}

Status DownloadStore::remove(int64_t id) {
  auto st = db_->prepare("DELETE FROM downloads WHERE id = ?");
  st.bind(1, id);
  return st.run();
}

}  // namespace gs::daemon
