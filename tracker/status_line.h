// The one line gs-tracker shows under `systemctl status gs-tracker@N`
// (STATUS=, see lib/status_notifier.h): its role in the cluster and how busy
// it is. Pure: main gathers the facts every few seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "replica.h"

namespace gs::tracker {

struct StatusFacts {
  int self = 1;  // 1-based, of `count`
  int count = 1;
  Role role = Role::recovering;
  View view;
  std::optional<int> primary;  // the primary it knows of, if any
  size_t sessions = 0;         // live daemon sessions (soft state: the primary's)
  size_t connections = 0;      // client connections open now
};

//   tracker 1 of 3: primary, epoch 4, in sync [1 2 3]; 5 sessions, 12 connections
//   tracker 2 of 3: backup, primary 1, epoch 4; 0 sessions, 3 connections
//   tracker 3 of 3: recovering, no primary known, epoch 4; 0 sessions, 0 connections
std::string status_line(const StatusFacts& facts);

}  // namespace gs::tracker
