/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs a fuzz target over the files of its seed corpus (and any crash
 * reproducers kept there), or over single files, so every input found so
 * far is replayed by the ordinary test suite without libFuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        FILE *f = fopen(path, "rbe");
        uint8_t *buf;
        long n;

        if (!f)
                return -1;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc(n > 0 ? (size_t)n : 1);
        if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
                fclose(f);
                free(buf);
                return -1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        free(buf);
        return 0;
}

int main(int argc, char **argv) {
        size_t count = 0;

        for (int i = 1; i < argc; i++) {
                struct dirent **ents;
                struct stat st;
                int n;

                /* A file is one input (an open bug's, see tests/meson.build). */
                if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode)) {
                        if (run_file(argv[i]) < 0) {
                                fprintf(stderr, "cannot read %s\n", argv[i]);
                                return 1;
                        }
                        count++;
                        continue;
                }
                n = scandir(argv[i], &ents, NULL, alphasort);
                if (n < 0) {
                        fprintf(stderr, "cannot read corpus %s\n", argv[i]);
                        return 1;
                }
                for (int j = 0; j < n; j++) {
                        char path[4096];
                        if (ents[j]->d_name[0] != '.') {
                                snprintf(path, sizeof(path), "%s/%s", argv[i], ents[j]->d_name);
                                if (run_file(path) < 0) {
                                        fprintf(stderr, "cannot read %s\n", path);
                                        return 1;
                                }
                                count++;
                        }
                        free(ents[j]);
                }
                free(ents);
        }
        printf("replayed %zu inputs\n", count);
        return count ? 0 : 1;
}
