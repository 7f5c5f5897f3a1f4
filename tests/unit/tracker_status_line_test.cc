#include "tracker/status_line.h"

#include <gtest/gtest.h>

namespace gs::tracker {
namespace {

TEST(TrackerStatusLine, Primary) {
  StatusFacts f;
  f.self = 1;
  f.count = 3;
  f.role = Role::primary;
  f.view.epoch = 4;
  f.view.isr = {1, 2, 3};
  f.primary = 1;
  f.sessions = 5;
  f.connections = 12;
  EXPECT_EQ(status_line(f), "tracker 1 of 3: primary, epoch 4, in sync [1 2 3]; 5 sessions, 12 connections");
}

TEST(TrackerStatusLine, BackupAndRecovering) {
  StatusFacts f;
  f.self = 2;
  f.count = 3;
  f.role = Role::backup;
  f.view.epoch = 4;
  f.primary = 1;
  f.connections = 1;
  EXPECT_EQ(status_line(f), "tracker 2 of 3: backup, primary 1, epoch 4; 0 sessions, 1 connection");
  f.role = Role::recovering;
  f.primary.reset();
  EXPECT_EQ(status_line(f), "tracker 2 of 3: recovering, no primary known, epoch 4; 0 sessions, 1 connection");
}

}  // namespace
}  // namespace gs::tracker
