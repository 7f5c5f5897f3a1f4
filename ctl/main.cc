// gsctl: the command-line client of gsd. All the work is in app.cc.
#include <iostream>
#include <string>
#include <vector>

#include "app.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return gs::ctl::run(args, gs::ctl::AppContext::from_process(), std::cout, std::cerr);
}
