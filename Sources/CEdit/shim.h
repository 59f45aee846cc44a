#ifndef FERRY_CEDIT_SHIM_H
#define FERRY_CEDIT_SHIM_H

#include <histedit.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

/* Swift cannot call libedit's variadic el_set, el_get and history; these wrap the uses Ferry makes of
   them, one function each. */

/* A function bound to a key with EL_ADDFN: gets the key, returns a CC_* code. */
typedef unsigned char (*ferry_el_command_t)(EditLine *, int);
/* The prompt, as EL_PROMPT asks for it. */
typedef char *(*ferry_el_prompt_t)(EditLine *);

/* libedit reads and writes multibyte text in the LC_CTYPE locale: use the user's when it is UTF-8,
   else C.UTF-8, so that names in any script can be typed and shown. */
static inline void ferry_el_use_utf8(void) {
    setlocale(LC_CTYPE, "");
    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0) setlocale(LC_CTYPE, "C.UTF-8");
}

/* An editor on the process's standard input, output and error. */
static inline EditLine *ferry_el_init(const char *program) {
    return el_init(program, stdin, stdout, stderr);
}

static inline int ferry_el_set_emacs(EditLine *el) {
    return el_set(el, EL_EDITOR, "emacs");
}

static inline int ferry_el_set_prompt(EditLine *el, ferry_el_prompt_t prompt) {
    return el_set(el, EL_PROMPT, prompt);
}

static inline int ferry_el_set_history(EditLine *el, History *history_) {
    return el_set(el, EL_HIST, history, history_);
}

/* Characters come from `read` instead of libedit's own read(2) of the terminal. */
static inline int ferry_el_set_getcfn(EditLine *el, el_rfunc_t read) {
    return el_set(el, EL_GETCFN, read);
}

static inline int ferry_el_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

static inline void *ferry_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) return NULL;
    return data;
}

/* Makes `command` a function that keys can be bound to, under `name`. */
static inline int ferry_el_addfn(EditLine *el, const char *name, const char *help, ferry_el_command_t command) {
    return el_set(el, EL_ADDFN, name, help, command);
}

/* As `bind key command` in ~/.editrc, e.g. ("^R", "em-inc-search-prev"). */
static inline int ferry_el_bind(EditLine *el, const char *key, const char *command) {
    return el_set(el, EL_BIND, key, command, NULL);
}

/* Draws the prompt and the line afresh from the cursor's position, taken to be a line's start. */
static inline int ferry_el_redraw(EditLine *el) {
    return el_set(el, EL_REFRESH);
}

static inline int ferry_history_setsize(History *history_, int size) {
    HistEvent event;
    return history(history_, &event, H_SETSIZE, size);
}

static inline int ferry_history_enter(History *history_, const char *line) {
    HistEvent event;
    return history(history_, &event, H_ENTER, line);
}

#endif
