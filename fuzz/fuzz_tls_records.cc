// TLS 1.3 record protection (lib/tls_records) over arbitrary bytes, as a
// link's reading end takes them in after the handshake. Checks: a record is
// opened only if its whole header and body are in the input; what opens holds
// at most 2^14 bytes of content, then its content type, then zeros, all
// within the buffer open() asked for; and a record that opens without padding
// is byte for byte what the far end's sealer makes of that content at that
// point of the stream, i.e. nothing opens that the key's holder did not seal.
// Sealed content comes back exactly, and a record with one bit flipped does
// not open.
//
// Input: byte 0 chooses the suite (byte 0 mod 3: 0x1301, 0x1302, 0x1303;
// the secrets are fixed, below) and what the rest is.
// Bit 7 clear (stream): the rest is the bytes a link reads, records one after
// the other; opened as they come until a header record_size() refuses, a
// record the input cuts short, or one open() refuses (the link would end
// there). Bit 6 set: opened in place (into the record's own bytes).
// Bit 7 set (round trip): byte 1 chooses a record to tamper with (its low
// nibble: its index among the records; none if there are fewer) and, with that record's
// control byte, which bit of it to flip. The rest is chunks: a control byte,
// then, unless the control's low two bits are 3, a u16 big-endian length
// (taken mod 2^14 + 1) and that many content bytes (fewer if the input ends).
// Control bits 0-1: 0 application data, 1 alert, 2 handshake, 3 a KeyUpdate
// of both ends (no record); bit 2 sealed in place, bit 3 opened in place;
// bits 5-7 the bit to flip. Each is sealed by one end, opened by the other,
// and the tampered copy offered to a third end that has opened every record
// before it.
//
// Seeds (fuzz/corpus/tls_records/): empty; header-only, oversized, short and
// non-application-data headers; streams of records sealed with the far end's
// secret below for each suite (made with Python's hmac and the
// "cryptography" package's AEADs, from RFC 8446 5.2-5.3 and 7.1-7.3, so they
// also check the key schedule), padded, cut short, tampered and opened in
// place; round trips of each suite with every content type, KeyUpdates,
// in-place sealing and opening and tampering.
//
// Every loop is bounded: by the input's length, each turn taking at least one
// byte, and by kMaxRecords.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tls_records.h"

namespace {

namespace rec = gs::tls_record;
using gs::TlsRecords;

constexpr size_t kMaxRecords = 10000;
constexpr uint16_t kSuites[] = {0x1301, 0x1302, 0x1303};
constexpr uint8_t kTypes[] = {rec::kApplicationData, rec::kAlert, rec::kHandshake};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "fuzz_tls_records: %s\n", what);
  std::abort();
}

// The fixed traffic secrets: `own` this end's (it seals with it), `far` the
// far end's (it opens with it). Byte i of own is 0x11 + 3i, of far 0x5a + 7i
// (mod 256), as long as the suite's hash.
std::string secret(unsigned first, unsigned step, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((first + step * i) & 0xff);
  return s;
}

std::unique_ptr<TlsRecords> make(uint16_t suite, const std::string& open_secret,
                                 const std::string& seal_secret) {
  auto r = TlsRecords::create(suite, open_secret, seal_secret);
  if (!r) die("cannot make a TlsRecords from the fixed secrets");
  return std::move(*r);
}

// What open() wrote on success: content, the type, zeros, in `room` bytes.
void check_opened(const TlsRecords::Opened& o, const char* out, size_t room) {
  if (o.size > rec::kMaxPlain) die("opened more than 2^14 bytes of content");
  if (o.size >= room) die("opened content that leaves no room for its type");
  if (o.type == 0 || static_cast<uint8_t>(out[o.size]) != o.type) die("opened a wrong type");
  for (size_t i = o.size + 1; i < room; ++i) {
    if (out[i] != 0) die("opened a record with something other than zeros after its type");
  }
}

void stream(uint16_t suite, const std::string& own, const std::string& far, const char* p,
            size_t left, bool in_place) {
  auto link = make(suite, far, own);
  auto far_end = make(suite, own, far);  // seals what `link` opens
  std::vector<char> copy(rec::kMaxRecord);
  std::vector<char> resealed(rec::kMaxRecord);
  for (size_t n = 0; n < kMaxRecords && left >= rec::kHeader; ++n) {
    auto whole = TlsRecords::record_size(p);
    if (!whole) return;
    if (*whole < rec::kHeader + 1 + rec::kTag || *whole > rec::kMaxRecord) {
      die("record_size() out of bounds");
    }
    if (*whole > left) return;  // the link would wait for more
    const size_t room = *whole - rec::kHeader - rec::kTag;
    // Exactly the room open() asks for, so that ASan sees any write past it.
    std::vector<char> out_buf(in_place ? 0 : room);
    char* out = out_buf.data();
    char* record = const_cast<char*>(p);
    if (in_place) {
      std::memcpy(copy.data(), p, *whole);
      record = copy.data();
      out = copy.data() + rec::kHeader;
    }
    auto opened = link->open(record, *whole, out);
    if (!opened) return;  // the link ends
    check_opened(*opened, out, room);
    if (!far_end->seal(opened->type, out, opened->size, resealed.data())) die("seal failed");
    if (room == opened->size + 1 && std::memcmp(resealed.data(), p, *whole) != 0) {
      die("opened a record the far end's key would not have sealed so");
    }
    p += *whole;
    left -= *whole;
  }
}

void round_trip(uint16_t suite, const std::string& own, const std::string& far, const char* p,
                size_t left) {
  if (left == 0) return;
  const unsigned tamper_at = static_cast<uint8_t>(*p) & 0x0f;
  const unsigned tamper_seed = static_cast<uint8_t>(*p) >> 4;
  ++p;
  --left;
  auto sealer = make(suite, far, own);
  auto opener = make(suite, own, far);
  auto third = make(suite, own, far);  // opens in step until the tampered record
  std::vector<char> sealed(rec::kMaxRecord);
  std::vector<char> opened_buf(rec::kMaxRecord);
  uint64_t count = 0;  // records sealed with the current key
  unsigned index = 0;  // records in all
  for (size_t n = 0; n < kMaxRecords && left > 0; ++n) {
    const uint8_t control = static_cast<uint8_t>(*p);
    ++p;
    --left;
    if ((control & 3) == 3) {
      if (!sealer->next_seal_key() || !opener->next_open_key()) die("KeyUpdate failed");
      if (third && !third->next_open_key()) die("KeyUpdate failed");
      if (sealer->sealed_with_key() != 0) die("KeyUpdate kept the sequence number");
      count = 0;
      continue;
    }
    const uint8_t type = kTypes[control & 3];
    size_t size = 0;
    if (left >= 2) {
      size =
          ((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1])) % (rec::kMaxPlain + 1);
      p += 2;
      left -= 2;
    } else {
      p += left;
      left = 0;
    }
    if (size > left) size = left;
    const char* content = p;
    p += size;
    left -= size;

    const size_t whole = rec::sealed_size(size);
    bool ok = false;
    if (control & 4) {
      std::memcpy(sealed.data() + rec::kHeader, content, size);
      ok = sealer->seal(type, sealed.data() + rec::kHeader, size, sealed.data());
    } else {
      ok = sealer->seal(type, content, size, sealed.data());
    }
    if (!ok) die("seal failed");
    if (sealer->sealed_with_key() != ++count) die("sealed_with_key() does not count");
    const auto* h = reinterpret_cast<const unsigned char*>(sealed.data());
    const size_t body = size + 1 + rec::kTag;
    if (h[0] != rec::kApplicationData || h[1] != 3 || h[2] != 3 ||
        h[3] != static_cast<unsigned char>(body >> 8) ||
        h[4] != static_cast<unsigned char>(body & 0xff)) {
      die("a header that is not 23 3 3 and the body's length");
    }
    auto measured = TlsRecords::record_size(sealed.data());
    if (!measured || *measured != whole) die("record_size() of a sealed record is not its size");

    if (third && index == tamper_at) {
      std::vector<char> changed(sealed.begin(), sealed.begin() + whole);
      const size_t at = ((static_cast<size_t>(tamper_seed) << 8) | control) % whole;
      changed[at] = static_cast<char>(changed[at] ^ (1 << (control >> 5)));
      std::vector<char> out(whole - rec::kHeader - rec::kTag);
      if (third->open(changed.data(), whole, out.data())) die("a record with a flipped bit opened");
      third.reset();  // a link ends at a bad record
    }

    char* record = sealed.data();
    char* out = opened_buf.data();
    if (control & 8) out = sealed.data() + rec::kHeader;
    if (third) {
      std::vector<char> out3(whole - rec::kHeader - rec::kTag);
      auto o3 = third->open(record, whole, out3.data());
      if (!o3 || o3->size != size) die("the third end did not open a sealed record");
    }
    auto opened = opener->open(record, whole, out);
    if (!opened) die("a sealed record did not open");
    check_opened(*opened, out, whole - rec::kHeader - rec::kTag);
    if (opened->type != type || opened->size != size || std::memcmp(out, content, size) != 0) {
      die("a sealed record opened to something else");
    }
    ++index;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint16_t suite = kSuites[data[0] % 3];
  const size_t hash_size = suite == 0x1302 ? 48 : 32;
  const std::string own = secret(0x11, 3, hash_size);
  const std::string far = secret(0x5a, 7, hash_size);
  const char* rest = reinterpret_cast<const char*>(data) + 1;
  if (data[0] & 0x80) {
    round_trip(suite, own, far, rest, size - 1);
  } else {
    stream(suite, own, far, rest, size - 1, (data[0] & 0x40) != 0);
  }
  return 0;
}
