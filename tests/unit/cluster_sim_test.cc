// The replication state machine under a seeded cluster simulation (see
// cluster_sim.h): for every schedule of crashes, pauses, broken links and
// late messages, no acknowledged write is lost, no two records are
// committed at one seq, no write is applied twice, an epoch has one primary
// which stops at the news of a newer one; and once the faults stop, the
// cluster heals and takes a new write.
//
//   SIM_SEED=1234 ./build/tests/cluster_sim_test    replays one schedule with a trace
//   SIM_SEEDS=5000 ./build/tests/cluster_sim_test   soaks with more seeds
//   SIM_FIRST=N                                     starts the sweep at seed N
//   SIM_VERBOSE=1                                   one line per schedule
//   SIM_WIRE=1                                      every schedule through the JSON wire
//   SIM_TRACE_MESSAGES=1                            with SIM_SEED: every message delivered
#include "cluster_sim.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace gs::sim {
namespace {

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 10);
}

std::string replay(uint64_t seed) {
  return "env SIM_SEED=" + std::to_string(seed) +
         " ./build/tests/cluster_sim_test --gtest_filter=ClusterSim.RandomSchedules";
}

// Returns the failure, empty when the schedule passed.
std::string run_seed(uint64_t seed, bool trace) {
  const ClusterSpec spec = random_cluster_spec(seed);
  const ClusterOutcome out = Cluster(spec, seed, trace).run();
  if (env_u64("SIM_VERBOSE", 0) != 0) {
    std::printf("seed %llu: %s at %.1f s, %zu acked, %zu faults, %llu epochs, %zu snapshots; %s\n",
                static_cast<unsigned long long>(seed), out.ok ? "ok" : "FAILED",
                static_cast<double>(out.end) / 1000, out.acked, out.faults,
                static_cast<unsigned long long>(out.epochs), out.snapshots,
                spec.describe().c_str());
  }
  if (out.ok) return {};
  return "seed " + std::to_string(seed) + " failed " + out.failure + "\n  spec: " +
         spec.describe() + "\n  replay: " + replay(seed);
}

// Schedules per run. A sanitizer build runs each one about a hundred times
// slower (every simulated message is allocated and freed), and what it looks
// for is memory errors, which a sixth of the schedules exercise as well; the
// plain build covers the full count.
#ifdef GS_SANITIZE
constexpr uint64_t kSchedules = 50;
#else
constexpr uint64_t kSchedules = 300;
#endif

TEST(ClusterSim, RandomSchedules) {
  std::vector<uint64_t> seeds;
  const uint64_t one = env_u64("SIM_SEED", 0);
  if (one != 0) {
    seeds.push_back(one);
  } else {
    const uint64_t first = env_u64("SIM_FIRST", 1);
    const uint64_t count = env_u64("SIM_SEEDS", kSchedules);
    for (uint64_t s = first; s < first + count; ++s) seeds.push_back(s);
  }
  size_t failed = 0;
  for (uint64_t seed : seeds) {
    const std::string failure = run_seed(seed, one != 0);
    if (failure.empty()) continue;
    ADD_FAILURE() << failure;
    if (++failed >= 10) {
      ADD_FAILURE() << "stopping after 10 failing seeds";
      break;
    }
  }
}

}  // namespace
}  // namespace gs::sim
