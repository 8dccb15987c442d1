/* runner: `faultline run` (runner.c). */
#ifndef FL_RUNNER_H
#define FL_RUNNER_H

int runner_main(int argc, char **argv);

#endif
