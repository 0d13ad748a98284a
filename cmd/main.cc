// qbd: map remote volumes as /dev/qbdX.  Each verb is in verbs/; see cli.h.
#include "cli.h"

int main(int argc, char** argv) { return qbd::run(argc, argv); }
