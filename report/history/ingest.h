/* ingest: `fl-history add` (result files and directories into the store)
 * and `fl-history eval` (the same records printed straight from the files,
 * the other half of the round-trip test). */
#ifndef FL_HISTORY_INGEST_H
#define FL_HISTORY_INGEST_H

int ingest_main(int argc, char **argv);
int ingest_eval_main(int argc, char **argv);

#endif
