// The steps of a download's life at which a crash leaves a different state
// on disk, named so that a test can kill gsd at each one (lib/crash_point.h)
// and check that the restarted daemon still ends with the complete file.
//
// Adding a step: add it here, call crash_at() where it happens, and the
// crash-point test (tests/e2e/test_crash_points.py) fails until it has a case.
#pragma once

#include <array>
#include <string_view>

#include "crash_point.h"

namespace gs::daemon {

enum class DownloadStep {
  piece_written,     // a verified piece is in the partial file; the loop has not heard
  progress_synced,   // periodic commit: the partial file is synced, the bitmap not saved
  progress_saved,    // periodic commit: the bitmap is saved
  pause_synced,      // pause (logout, or the disk failed): synced, the paused state not saved
  fail_synced,       // failure: synced, the failed state not saved
  final_synced,      // every piece verified, the partial file fsynced, not renamed
  renamed,           // DEST.gs-part renamed to DEST, the directory not synced
  rename_durable,    // the directory is synced; the completing commit not made
  complete_saved,    // the record says complete; the file not adopted as a share
  share_kept,        // the share is saved locally; the tracker not told
};

inline constexpr std::array<std::pair<DownloadStep, std::string_view>, 10> kDownloadSteps{{
    {DownloadStep::piece_written, "piece_written"},
    {DownloadStep::progress_synced, "progress_synced"},
    {DownloadStep::progress_saved, "progress_saved"},
    {DownloadStep::pause_synced, "pause_synced"},
    {DownloadStep::fail_synced, "fail_synced"},
    {DownloadStep::final_synced, "final_synced"},
    {DownloadStep::renamed, "renamed"},
    {DownloadStep::rename_durable, "rename_durable"},
    {DownloadStep::complete_saved, "complete_saved"},
    {DownloadStep::share_kept, "share_kept"},
}};

constexpr std::string_view step_name(DownloadStep step) {
  for (const auto& [s, name] : kDownloadSteps) {
    if (s == step) return name;
  }
  return "?";
}

inline void crash_at(DownloadStep step) { crash_point(step_name(step)); }

}  // namespace gs::daemon
