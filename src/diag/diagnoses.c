/* diagnoses.c - the detectors' events as text (the summary a run and `clgan diagnose`
 * print) and as JSON (diagnoses.json, `clgan diagnose --json`). Does not detect anything
 * (detect.c) nor read runs (rundata.c). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"
#include "clgan/io.h"

static const char *const sev_str[] = {"info", "warning", "error"};

void clgan_diagnoses_print(FILE *f, const clgan_diagnosis *d, int n, long iterations)
{
    int problems = 0, open = 0;
    for (int i = 0; i < n; i++) {
        problems += d[i].severity > CLGAN_SEV_INFO;
        open += d[i].severity > CLGAN_SEV_INFO && !d[i].recovered;
    }
    fprintf(f, "Diagnosis after %ld iterations: ", iterations);
    if (!problems)
        fprintf(f, "no training failure detected\n");
    else if (!open)
        fprintf(f, "%d problem%s found, all recovered\n", problems, problems > 1 ? "s" : "");
    else
        fprintf(f, "%d problem%s found, %d still present at the end\n", problems,
                problems > 1 ? "s" : "", open);
    for (int i = 0; i < n; i++) {
        fprintf(f, "  [%s] %s, iterations %ld-%ld", sev_str[d[i].severity], d[i].name, d[i].onset,
                d[i].end);
        if (d[i].severity > CLGAN_SEV_INFO)
            fprintf(f, " (%s, named at %ld)", d[i].recovered ? "recovered" : "not recovered",
                    d[i].confirmed);
        fprintf(f, "\n    evidence: %s\n", d[i].evidence);
        for (int k = 0; k < 6 && d[i].remedies[k]; k++)
            fprintf(f, "    %s %s\n", k ? "   " : "try:", d[i].remedies[k]);
    }
}

char *clgan_diagnoses_json(const clgan_diagnosis *d, int n, long iterations)
{
    cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
    int healthy = 1;
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject(), *rem = cJSON_CreateArray();
        healthy &= d[i].severity == CLGAN_SEV_INFO;
        cJSON_AddStringToObject(o, "id", d[i].key);
        cJSON_AddStringToObject(o, "name", d[i].name);
        cJSON_AddStringToObject(o, "severity", sev_str[d[i].severity]);
        cJSON_AddNumberToObject(o, "onset", (double)d[i].onset);
        cJSON_AddNumberToObject(o, "end", (double)d[i].end);
        cJSON_AddNumberToObject(o, "confirmed", (double)d[i].confirmed);
        cJSON_AddBoolToObject(o, "recovered", d[i].recovered);
        cJSON_AddStringToObject(o, "evidence", d[i].evidence);
        for (int k = 0; k < 6 && d[i].remedies[k]; k++)
            cJSON_AddItemToArray(rem, cJSON_CreateString(d[i].remedies[k]));
        cJSON_AddItemToObject(o, "remedies", rem);
        cJSON_AddItemToArray(list, o);
    }
    cJSON_AddNumberToObject(root, "iterations", (double)iterations);
    cJSON_AddBoolToObject(root, "healthy", healthy);
    cJSON_AddItemToObject(root, "diagnoses", list);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

clgan_status clgan_diagnoses_write(const char *path, const clgan_diagnosis *d, int n, long iterations)
{
    char *text = clgan_diagnoses_json(d, n, iterations);
    if (!text)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    size_t len = strlen(text);
    text[len] = '\n';
    clgan_status st = clgan_io_write_file(path, text, len + 1);
    free(text);
    return st;
}
