/* test_progress.c - the training progress line: at every terminal width it fits in one
 * row (width - 1 columns), and it says what it can: at 80 columns speed, time left and
 * the interval its loss means cover, down to 52 columns the interval, down to 40 that
 * they are means; the accuracy only where it means something, the evaluation when there
 * is room; a log (width 0) gets everything. */
#include <stdio.h>
#include <string.h>

#include "gan/progress.h"
#include "testutil.h"

static clgan_progress sample(void)
{
    clgan_progress p = {.done = 12300, .total = 100000, .rate = 310.25, .eta_s = 3725,
                        .from = 12200, .to = 12300, .d_loss = 0.61234, .g_loss = 0.91411,
                        .d_acc = 0.712, .show_acc = 1, .has_eval = 1, .modes = 9, .fd = 41.25};
    return p;
}

int main(void)
{
    char line[256];
    clgan_progress p = sample();

    clgan_progress_format(line, sizeof line, 0, &p);
    printf("log:  %s\n", line);
    CHECK(strstr(line, "[12300/100000]") && strstr(line, "mean of 12201-12300:"));
    CHECK(strstr(line, "D loss 0.6123") && strstr(line, "G loss 0.9141") && strstr(line, "acc 71%"));
    CHECK(strstr(line, "310 it/s") && strstr(line, "ETA 1:02:05") && strstr(line, "modes 9 FD 41.2"));

    for (int width = 200; width >= 8; width--) {
        clgan_progress_format(line, sizeof line, width, &p);
        CHECK((int)strlen(line) <= width - 1);
        int names = strstr(line, "mean") && strstr(line, "12201-12300: "), says = !!strstr(line, "mean");
        if ((width >= 52 && !names) || (width >= 40 && !says)) {
            printf("width %d does not say what the losses are: %s\n", width, line);
            CHECK(0);
        }
        if (width == 120 || width == 80 || width == 60 || width == 40 || width == 24)
            printf("%3d:  %s\n", width, line);
    }
    clgan_progress_format(line, sizeof line, 80, &p);
    CHECK(strstr(line, "ETA") && strstr(line, "it/s")); /* 80 columns keep speed and time */

    p.show_acc = 0; /* a Wasserstein critic: no accuracy anywhere */
    clgan_progress_format(line, sizeof line, 0, &p);
    CHECK(!strstr(line, "acc"));
    p = sample();
    p.has_eval = 0; /* before the first evaluation */
    clgan_progress_format(line, sizeof line, 0, &p);
    CHECK(!strstr(line, "modes") && !strstr(line, "FD"));
    p = sample();
    p.rate = 0, p.eta_s = -1; /* not measured yet */
    clgan_progress_format(line, sizeof line, 0, &p);
    CHECK(strstr(line, "ETA ?") && !strstr(line, "it/s"));
    p.eta_s = 65;
    clgan_progress_format(line, sizeof line, 0, &p);
    CHECK(strstr(line, "ETA 1:05") != NULL);
    clgan_progress_format(line, 4, 0, &p); /* a short buffer is cut, not overrun */
    CHECK(strlen(line) == 3);
    return tu_finish("test_progress");
}
