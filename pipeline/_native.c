/* Compiled kernels for the hot per-byte loops of the stages.
 *
 * Each function here has a pure-Python twin that gives the same result (tests compare them);
 * the Python code uses the compiled one when this module is importable. Built by setuptools at
 * install time (an optional extension: a failed build leaves the Python twins in use, and
 * `pipeline.native.available()` says so).
 *
 * dfa_features(data, nextmove, rowbase, output) -> (idx, counts)
 *     Walks the byte n-gram automaton of the language model over `data` (bytes) as
 *     `pipeline.enrich._language.LanguageDetector._scores` does in Python:
 *         state = nextmove[rowbase[state] + byte]; feature = output[state]; keep feature >= 0
 *     and returns the distinct features in order of first appearance (native int64, as bytes)
 *     with how often each was seen (float32, as bytes): what Counter(found) gives, in its order.
 *     nextmove: buffer of uint32; rowbase, output: buffers of int32 (one per state).
 *
 * keyword_scan(text, kinds) -> (keys, surfaces, runs, n_runs, n_words)
 * keyword_rank(keys, surfaces, runs, n_runs, title_words, entity_keys, top, surface) -> list
 * keyword_rank_after(first_keys, first_surfaces, first_runs, first_n_runs, keys, surfaces, runs,
 *                    n_runs, title_words, entity_keys, top, surface) -> list
 *     The loops of `pipeline.enrich._keywords.tokenize` and `_rank_python` (see each function):
 *     keyword_scan is `_tokenize_python(_TOKEN.findall(text))` in one pass, finding the words,
 *     the run-breaking punctuation marks and an apostrophe standing between white space with
 *     Python's own Unicode tables for "alphanumeric" and "white space", as the regex engine
 *     uses them; keyword_rank_after ranks two token lists as if joined by `TextTokens.after`.
 *
 * split_tokens(text) -> list[str]
 *     What `pipeline.dedup._features._SPLIT_RE.split(text)` returns: [gap, token, gap, ...,
 *     token, gap], tokens being ASCII words (with at most one inner apostrophe) and numbers
 *     (decimal digits, groups joined by "." or ",").
 *
 * features(folded, fast, entries, make_entry, numbers, make_number) -> list[Feature]
 *     What `pipeline.dedup._features.features_python` returns for a folded text, in one pass over
 *     its tokens (the scan of split_tokens) with the memos of that module: `fast` (raw token ->
 *     its feature, or () for none), `entries` (raw token -> entry tuple, kinds 0..4 as its
 *     `_K_FEAT`..`_K_NUM`; a miss calls `make_entry(token)`, `_cache_token`, which fills both and
 *     may clear them) and `numbers` (value -> number feature; a miss calls `make_number(value)`).
 *     The Feature objects are the memos' own. Holds no borrowed reference across a call back.
 *     Keeps a mirror of the memos between calls (exact: see "the memos' mirror" below).
 * index_near(q, offsets, rows, fp, ts, built, n, masks, max_distance, close_distance, far) -> list
 * index_key_rows(hi, offsets, rows, delta, n_delta, built, key32, ts, fp, q, max_distance,
 *                screen_above, cap) -> list | None
 * index_any_rows(hi, offsets, rows, delta, n_delta, built, keys, ts) -> list
 * index_rows(w, width, fp, kept, q, sketch_col, words_col, sketch, words, pairs_col, pairs_bins,
 *            pairs, pairs_count, names_col, names_bins, names, names_count) -> 5-tuple
 * index_common_order(a, na, b, nb) -> int | None
 *     The candidate search and the per-row figures of `pipeline.dedup._index.DedupIndex.lookup`:
 *     the rows near a fingerprint in the block tables, the rows of one or several exact keys,
 *     the fingerprint distances, sketch similarities and bottom-k overlaps (pairs, names) of
 *     the candidates' signatures, and the longest common subsequence of two order sequences:
 *     the same values as the numpy and Python twins there (see each function, in the block of
 *     dedup index kernels).
 *
 * signature_parts(feats, positions, log1) -> tuple
 *     For n >= 3 features ((key, weight, ...) tuples): the 12 items of
 *     `pipeline.dedup._fingerprint.fingerprint_parts` (`aggregate`, then `sketch`, `bottom_k`
 *     and `smallest32`), then `name_order`'s (order, order_count, names_key) and the lead key
 *     (`pipeline.dedup._signature.feature_parts`), with the key hashes computed here (xxh64,
 *     seed 0x5EED).
 * words_hash(s) -> int
 *     xxh64 of the UTF-8 of " ".join(re.findall(r"\w+", s)) (`_signature.body_hash`).
 * xxh64(data, seed=0) -> int
 *     xxhash.xxh64_intdigest(data, seed=seed) (the hash the two above use; for the tests).
 *
 * needle_table(groups) -> capsule; needle_hits(text, table) -> int
 * stopword_table(owners) -> capsule; stopword_votes_table(text, table) -> dict
 * count_words(text, cap) -> int
 *     The scans of `pipeline.clean` (see the block of clean stage scans): which groups of
 *     literal strings occur in a text, the stopword votes against a table built once, and
 *     len(text.split(maxsplit=cap)).
 *
 * stopword_votes(text, owners, min_len=1, max_len=sys.maxsize) -> dict
 *     What `pipeline.clean._lang.stopword_votes_python` counts, as a dict in the Counter's key
 *     order: owners[w] for each letter run w of `text` (re.findall(r"[^\W\d_]+", text): Python's
 *     alphanumeric characters that are not decimal digits nor "_") that is a key of `owners`,
 *     each code once, in order of first appearance, with its count. Runs shorter than min_len
 *     or longer than max_len are not looked up (the bounds of the keys of `owners`).
 *
 * prefixed_word_starts(text, prefixes) -> list[int]
 *     The positions i of `text`, in order, where a word starts (i == 0, or text[i - 1] is not a
 *     word character of Python's `\w`: alphanumeric by its own Unicode tables, or "_") and one
 *     of `prefixes` (a tuple of non-empty ASCII str) begins: the places where a regex
 *     `\b(?:prefix|...)` can match. Used by `pipeline.enrich._dates.date_matches`.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static int
get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS) < 0) {
        return -1;
    }
    if (((uintptr_t)view->buf) % (uintptr_t)itemsize != 0) {
        PyErr_Format(PyExc_ValueError, "%s: buffer is not aligned to %zd bytes", what, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    if (view->len % itemsize != 0) {
        PyErr_Format(PyExc_ValueError, "%s: buffer length %zd is not a multiple of %zd", what,
                     view->len, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *
dfa_features(PyObject *self, PyObject *args)
{
    Py_buffer data, nextmove, rowbase, output;
    PyObject *a, *b, *c, *d;
    PyObject *result = NULL;
    int64_t *idx = NULL;
    float *counts = NULL;
    int64_t *tally = NULL; /* exact counts (a float32 += 1 sticks at 2**24) */
    int32_t *slot_key = NULL;
    int32_t *slot_pos = NULL;

    if (!PyArg_ParseTuple(args, "OOOO:dfa_features", &a, &b, &c, &d)) {
        return NULL;
    }
    if (get_buffer(a, &data, 1, "data") < 0) {
        return NULL;
    }
    if (get_buffer(b, &nextmove, 4, "nextmove") < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    if (get_buffer(c, &rowbase, 4, "rowbase") < 0) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&nextmove);
        return NULL;
    }
    if (get_buffer(d, &output, 4, "output") < 0) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&nextmove);
        PyBuffer_Release(&rowbase);
        return NULL;
    }

    const unsigned char *bytes = (const unsigned char *)data.buf;
    const Py_ssize_t n = data.len;
    const uint32_t *next = (const uint32_t *)nextmove.buf;
    const Py_ssize_t n_next = nextmove.len / 4;
    const int32_t *base = (const int32_t *)rowbase.buf;
    const int32_t *out = (const int32_t *)output.buf;
    const Py_ssize_t n_states = rowbase.len / 4 < output.len / 4 ? rowbase.len / 4 : output.len / 4;

    /* open addressing: at most one new feature per byte, and one per state (a state outputs at
     * most one feature), so 2 x the smaller of the two keeps the load under 1/2 */
    const Py_ssize_t most = n < n_states ? n : n_states;
    Py_ssize_t cap = 16;
    while (cap < 2 * most + 2) {
        cap <<= 1;
    }
    idx = PyMem_Malloc((size_t)(most + 1) * sizeof(int64_t));
    counts = PyMem_Malloc((size_t)(most + 1) * sizeof(float));
    tally = PyMem_Malloc((size_t)(most + 1) * sizeof(int64_t));
    slot_key = PyMem_Malloc((size_t)cap * sizeof(int32_t));
    slot_pos = PyMem_Malloc((size_t)cap * sizeof(int32_t));
    if (!idx || !counts || !tally || !slot_key || !slot_pos) {
        PyErr_NoMemory();
        goto done;
    }
    memset(slot_key, 0xff, (size_t)cap * sizeof(int32_t)); /* -1: empty */

    Py_ssize_t found = 0;
    Py_ssize_t state = 0;
    const Py_ssize_t mask = cap - 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (state < 0 || state >= n_states) {
            PyErr_Format(PyExc_ValueError, "automaton state %zd out of range", state);
            goto done;
        }
        Py_ssize_t at = (Py_ssize_t)base[state] + bytes[i];
        if (at < 0 || at >= n_next) {
            PyErr_Format(PyExc_ValueError, "automaton move %zd out of range", at);
            goto done;
        }
        state = (Py_ssize_t)next[at];
        if (state >= n_states) {
            PyErr_Format(PyExc_ValueError, "automaton state %zd out of range", state);
            goto done;
        }
        int32_t feature = out[state];
        if (feature < 0) {
            continue;
        }
        Py_ssize_t h = ((uint32_t)feature * 2654435761u) & mask;
        while (slot_key[h] != -1 && slot_key[h] != feature) {
            h = (h + 1) & mask;
        }
        if (slot_key[h] == -1) {
            slot_key[h] = feature;
            slot_pos[h] = (int32_t)found;
            idx[found] = feature;
            tally[found] = 1;
            found++;
        }
        else {
            tally[slot_pos[h]]++;
        }
    }
    for (Py_ssize_t i = 0; i < found; i++) {
        counts[i] = (float)tally[i]; /* rounds as numpy's int -> float32 does */
    }
    {
        PyObject *pi = PyBytes_FromStringAndSize((const char *)idx, found * (Py_ssize_t)sizeof(int64_t));
        PyObject *pc = PyBytes_FromStringAndSize((const char *)counts, found * (Py_ssize_t)sizeof(float));
        if (pi && pc) {
            result = PyTuple_Pack(2, pi, pc);
        }
        Py_XDECREF(pi);
        Py_XDECREF(pc);
    }

done:
    PyMem_Free(idx);
    PyMem_Free(counts);
    PyMem_Free(tally);
    PyMem_Free(slot_key);
    PyMem_Free(slot_pos);
    PyBuffer_Release(&data);
    PyBuffer_Release(&nextmove);
    PyBuffer_Release(&rowbase);
    PyBuffer_Release(&output);
    return result;
}

/* ------------------------------------------------------------------------------ fingerprint */

#define SKETCH_TOKENS 120
#define ANCHOR_TOKENS 40
#define SKETCH_BINS 64
#define WORD_BINS 32
#define NAME_BINS 16
#define ALL_BINS 256
#define PROBE_KEYS 32

_Static_assert(SKETCH_BINS <= 64 && WORD_BINS <= 64, "sketch_bytes keeps at most 64 bins");
_Static_assert((SKETCH_BINS & (SKETCH_BINS - 1)) == 0 && (WORD_BINS & (WORD_BINS - 1)) == 0,
               "sketch_bytes needs a power of two of bins");
_Static_assert(NAME_BINS <= ALL_BINS, "bottom_k_bytes keeps at most ALL_BINS values");

static const uint64_t K1 = 0x9E3779B97F4A7C15ULL;
static const uint64_t K2 = 0xBF58476D1CE4E5B9ULL;
static const uint64_t MIX = 0x9E3779B97F4A7C15ULL;

static inline uint64_t
chain(uint64_t a, uint64_t b)
{
    uint64_t x = a * K1 + b;
    x ^= x >> 31;
    x *= K2;
    x ^= x >> 29;
    return x;
}

typedef struct {
    uint64_t h;
    double w;
} hw_t;

/* LSD radix sort of v[0..n) by the 8-bit digits of a 64-bit key (tmp: n more slots), stable; a
 * pass whose digit is the same for every element is skipped, and short runs use insertion.
 * Defined for (hash, weight) pairs sorted by hash. */
#define DEFINE_RADIX(NAME, T, KEY)                                                             \
    static void NAME(T *v, T *tmp, Py_ssize_t n)                                               \
    {                                                                                          \
        if (n <= 32) {                                                                         \
            for (Py_ssize_t i = 1; i < n; i++) {                                               \
                T x = v[i];                                                                    \
                Py_ssize_t j = i;                                                              \
                while (j > 0 && KEY(v[j - 1]) > KEY(x)) {                                      \
                    v[j] = v[j - 1];                                                           \
                    j--;                                                                       \
                }                                                                              \
                v[j] = x;                                                                      \
            }                                                                                  \
            return;                                                                            \
        }                                                                                      \
        Py_ssize_t count[256];                                                                 \
        T *src = v, *dst = tmp;                                                                \
        for (int shift = 0; shift < 64; shift += 8) {                                          \
            memset(count, 0, sizeof(count));                                                   \
            for (Py_ssize_t i = 0; i < n; i++) {                                               \
                count[(KEY(src[i]) >> shift) & 0xFF]++;                                        \
            }                                                                                  \
            if (count[(KEY(src[0]) >> shift) & 0xFF] == n) {                                   \
                continue;                                                                      \
            }                                                                                  \
            Py_ssize_t total = 0;                                                              \
            for (int d = 0; d < 256; d++) {                                                    \
                Py_ssize_t c = count[d];                                                       \
                count[d] = total;                                                              \
                total += c;                                                                    \
            }                                                                                  \
            for (Py_ssize_t i = 0; i < n; i++) {                                               \
                dst[count[(KEY(src[i]) >> shift) & 0xFF]++] = src[i];                          \
            }                                                                                  \
            T *t = src;                                                                        \
            src = dst;                                                                         \
            dst = t;                                                                           \
        }                                                                                      \
        if (src != v) {                                                                        \
            memcpy(v, src, (size_t)n * sizeof(T));                                             \
        }                                                                                      \
    }

#define KEY_HASH(x) ((x).h)
DEFINE_RADIX(radix_hw, hw_t, KEY_HASH)

/* one-permutation MinHash of distinct hashes into nbins (a power of two <= 64) 16-bit minima */
static PyObject *
sketch_bytes(const uint64_t *v, Py_ssize_t n, int nbins)
{
    uint64_t mins[64];
    int filled[64];
    uint16_t out[64];
    const uint64_t mask = nbins == 64 ? ~0ULL : (((uint64_t)nbins << 58) - 1);
    memset(filled, 0, sizeof(filled));
    memset(out, 0, sizeof(out));
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t m = (v[i] * MIX) & mask;
        int bin = (int)(m >> 58);
        if (!filled[bin] || m < mins[bin]) {
            mins[bin] = m;
            filled[bin] = 1;
        }
    }
    for (int b = 0; b < nbins; b++) {
        if (filled[b]) {
            out[b] = (uint16_t)(((mins[b] & 0x03FFFFFFFFFFFFFFULL) >> 42) % 65535ULL + 1ULL);
        }
    }
    return PyBytes_FromStringAndSize((const char *)out, 2 * nbins); /* little-endian hosts */
}

/* the k smallest distinct 16-bit values ((h * MIX) >> 48) % 65535 + 1, ascending, 0-padded
 * (a bitmap of the 65536 values, read from the bottom) */
static PyObject *
bottom_k_bytes(const uint64_t *v, Py_ssize_t n, int k, uint64_t *bitmap)
{
    uint16_t out[ALL_BINS];
    memset(out, 0, sizeof(out));
    memset(bitmap, 0, 1024 * sizeof(uint64_t));
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned value = (unsigned)(((v[i] * MIX) >> 48) % 65535ULL + 1ULL);
        bitmap[value >> 6] |= 1ULL << (value & 63);
    }
    int m = 0;
    for (int word = 0; word < 1024 && m < k; word++) {
        uint64_t bits = bitmap[word];
        while (bits && m < k) {
            int bit = __builtin_ctzll(bits);
            out[m++] = (uint16_t)(word * 64 + bit);
            bits &= bits - 1;
        }
    }
    return PyBytes_FromStringAndSize((const char *)out, 2 * k);
}

/* the k smallest distinct nonzero values (h * MIX) >> 32, ascending, 0-padded (kept sorted by
 * insertion: each value past the first k costs one comparison unless it is among the smallest) */
static PyObject *
smallest32_bytes(const uint64_t *v, Py_ssize_t n, int k)
{
    uint32_t out[PROBE_KEYS];
    memset(out, 0, sizeof(out));
    int m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)((v[i] * MIX) >> 32);
        if (x == 0 || (m == k && x >= out[k - 1])) {
            continue;
        }
        int j = m;
        while (j > 0 && out[j - 1] > x) {
            j--;
        }
        if (j > 0 && out[j - 1] == x) {
            continue; /* seen */
        }
        int last = m < k ? m : k - 1;
        memmove(out + j + 1, out + j, (size_t)(last - j) * sizeof(uint32_t));
        out[j] = x;
        if (m < k) {
            m++;
        }
    }
    return PyBytes_FromStringAndSize((const char *)out, 4 * k);
}

/* --------------------------------------------------------------------------- keyword tokens */

/* The characters `_TOKEN` treats specially (the scan is kw_token_end, with keyword_scan). */

static inline int
is_joiner(Py_UCS4 c)
{
    return c == '_' || c == 0x2019 /* ’ */ || c == '\'' || c == '-';
}

static inline int
is_break_mark(Py_UCS4 c)
{
    switch (c) {
    case '.': case ',': case ';': case ':': case '!': case '?': case '(': case ')': case '[':
    case ']': case '"': case 0x201C: case 0x201D: case 0x2018: case 0x2014: case 0x2013:
        return 1;
    default:
        return 0;
    }
}

/* ----------------------------------------------------------------------------- split tokens */

static inline int
ascii_letter(Py_UCS4 c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
append_slice(PyObject *out, PyObject *text, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *part = PyUnicode_Substring(text, start, end);
    if (part == NULL) {
        return -1;
    }
    int rc = PyList_Append(out, part);
    Py_DECREF(part);
    return rc;
}

/* Py_UNICODE_ISDECIMAL, without the call into the Unicode tables for ASCII (the scan tests every
 * character that starts no word: 3% of the features kernel's time went to those calls). */
static inline int
is_decimal(Py_UCS4 c)
{
    return c < 128 ? c >= '0' && c <= '9' : Py_UNICODE_ISDECIMAL(c);
}

/* The end of the token of `_SPLIT_RE` starting at i, or -1 when none starts there (the scan of
 * split_tokens and of the features kernel). */
static inline Py_ssize_t
token_end(int kind, const void *data, Py_ssize_t n, Py_ssize_t i)
{
    Py_UCS4 c = PyUnicode_READ(kind, data, i);
    Py_ssize_t end;
    if (ascii_letter(c)) {
        end = i + 1;
        while (end < n && ascii_letter(PyUnicode_READ(kind, data, end))) {
            end++;
        }
        if (end + 1 < n) { /* one apostrophe and letters after it, if both are there */
            Py_UCS4 a = PyUnicode_READ(kind, data, end);
            if ((a == '\'' || a == 0x2019) && ascii_letter(PyUnicode_READ(kind, data, end + 1))) {
                end += 2;
                while (end < n && ascii_letter(PyUnicode_READ(kind, data, end))) {
                    end++;
                }
            }
        }
        return end;
    }
    if (is_decimal(c)) {
        end = i + 1;
        while (end < n && is_decimal(PyUnicode_READ(kind, data, end))) {
            end++;
        }
        while (end + 1 < n) { /* (. or , then digits)* */
            Py_UCS4 sep = PyUnicode_READ(kind, data, end);
            if (!((sep == '.' || sep == ',') && is_decimal(PyUnicode_READ(kind, data, end + 1)))) {
                break;
            }
            end += 2;
            while (end < n && is_decimal(PyUnicode_READ(kind, data, end))) {
                end++;
            }
        }
        return end;
    }
    return -1;
}

static PyObject *
split_tokens(PyObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "split_tokens: text must be a str");
        return NULL;
    }
    const int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    Py_ssize_t last = 0, i = 0;
    while (i < n) {
        Py_ssize_t end = token_end(kind, data, n, i);
        if (end < 0) {
            i++;
            continue;
        }
        if (append_slice(out, arg, last, i) < 0 || append_slice(out, arg, i, end) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        last = i = end;
    }
    if (append_slice(out, arg, last, n) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* ------------------------------------------------------------------------- keyword ranking */

/* `" ".join(items[0:n])`, with `pad` also a space before and after. */
static PyObject *
join_spaced(PyObject *const *items, Py_ssize_t n, int pad)
{
    Py_ssize_t len = n - 1 + 2 * pad;
    Py_UCS4 maxchar = ' ';
    for (Py_ssize_t k = 0; k < n; k++) {
        len += PyUnicode_GET_LENGTH(items[k]);
        Py_UCS4 m = PyUnicode_MAX_CHAR_VALUE(items[k]);
        maxchar = m > maxchar ? m : maxchar;
    }
    PyObject *out = PyUnicode_New(len, maxchar);
    if (out == NULL) {
        return NULL;
    }
    Py_ssize_t at = 0;
    if (pad) {
        PyUnicode_WRITE(PyUnicode_KIND(out), PyUnicode_DATA(out), at++, ' ');
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        if (k > 0) {
            PyUnicode_WRITE(PyUnicode_KIND(out), PyUnicode_DATA(out), at++, ' ');
        }
        Py_ssize_t m = PyUnicode_GET_LENGTH(items[k]);
        if (PyUnicode_CopyCharacters(out, at, items[k], 0, m) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        at += m;
    }
    if (pad) {
        PyUnicode_WRITE(PyUnicode_KIND(out), PyUnicode_DATA(out), at++, ' ');
    }
    return out;
}

typedef struct {
    PyObject *key;  /* borrowed: from the keys snapshot or the phrase table */
    double score;
    Py_ssize_t id;  /* word id, or -1 - phrase id */
} Scored;

static int
scored_order(const void *a, const void *b)
{
    const Scored *x = a, *y = b;
    if (x->score != y->score) {
        return x->score > y->score ? -1 : 1;  /* score descending */
    }
    return PyUnicode_Compare(x->key, y->key);  /* then the text (exact str: cannot fail) */
}

/* The k-th largest (from 0) of v[0..n-1]; reorders v. */
static double
kth_largest(double *v, Py_ssize_t n, Py_ssize_t k)
{
    Py_ssize_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        Py_ssize_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] > pivot) {
                i++;
            }
            while (v[j] < pivot) {
                j--;
            }
            if (i <= j) {
                double t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j) {
            hi = j;
        }
        else if (k >= i) {
            lo = i;
        }
        else {
            return v[k];
        }
    }
    return v[k];
}

/* The spelling of one token: itself when it starts with a letter, else what `surface` says. */
static PyObject *
spelled(PyObject *tok, PyObject *surface)
{
    if (PyUnicode_GET_LENGTH(tok) > 0 && Py_UNICODE_ISALPHA(PyUnicode_READ_CHAR(tok, 0))) {
        Py_INCREF(tok);
        return tok;
    }
    PyObject *s = PyObject_CallOneArg(surface, tok);
    if (s != NULL && !PyUnicode_CheckExact(s)) {
        PyErr_SetString(PyExc_TypeError, "keyword_rank: surface() must return a str");
        Py_CLEAR(s);
    }
    return s;
}

#define MAX_PHRASE_WORDS 3
#define MAX_TOP 1000
/* the most keyword words the ranker takes (ids are int32; the window holds a few thousand) */
#define MAX_RANK_WORDS ((Py_ssize_t)1 << 26)

/* Phrases are counted by the ids of their words (no text made for the many seen once): an
 * open-addressing table of (w0, w1, w2 or -1) -> phrase id. 16 bytes a slot: the table of a
 * 600-word text (4096 slots) stays in the L2 cache. */
typedef struct {
    int32_t w[MAX_PHRASE_WORDS];
    int32_t id;  /* -1: empty slot */
} PhraseSlot;

static inline size_t
phrase_hash(const int32_t *w)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    for (int k = 0; k < MAX_PHRASE_WORDS; k++) {
        h = (h ^ (uint64_t)(uint32_t)w[k]) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    return (size_t)h;
}

/* The slot of phrase `w` (its id, or -1 when absent and the slot to fill). */
static PhraseSlot *
phrase_find(PhraseSlot *table, size_t mask, const int32_t *w)
{
    size_t at = phrase_hash(w) & mask;
    for (;;) {
        PhraseSlot *s = &table[at];
        if (s->id < 0 || (s->w[0] == w[0] && s->w[1] == w[1] && s->w[2] == w[2])) {
            return s;
        }
        at = (at + 1) & mask;
    }
}

/* Equality of two exact str (what `==` does for them: same length, width and code units). */
static inline int
exact_str_eq(PyObject *a, PyObject *b)
{
    if (a == b) {
        return 1;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    int kind = PyUnicode_KIND(a);
    return n == PyUnicode_GET_LENGTH(b) && kind == PyUnicode_KIND(b)
           && memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)(n * kind)) == 0;
}

/* hash(s) of an exact str: the one it caches (computed and cached on first use) */
static inline Py_hash_t
str_hash(PyObject *str)
{
    Py_hash_t h = ((PyASCIIObject *)str)->hash;
    return h != -1 ? h : PyObject_Hash(str);  /* a str's hash cannot fail */
}

static inline int
has_space(PyObject *str)
{
    const int kind = PyUnicode_KIND(str);
    const void *data = PyUnicode_DATA(str);
    for (Py_ssize_t k = 0, n = PyUnicode_GET_LENGTH(str); k < n; k++) {
        if (PyUnicode_READ(kind, data, k) == ' ') {
            return 1;
        }
    }
    return 0;
}

/* Words are numbered by their key through an open-addressing table of (str hash, word id): what
 * a dict of the keys gives, without a dict entry and an int object per word. */
typedef struct {
    Py_hash_t h;
    Py_ssize_t id;  /* -1: empty slot */
} WordSlot;

/* The slot of the exact str `key` (hash h): its word id, or -1 when absent and the slot to fill.
 * `first[id]` is the key of word id. */
static WordSlot *
word_find(WordSlot *table, size_t mask, PyObject *const *first_key, PyObject *key, Py_hash_t h)
{
    size_t at = ((size_t)h ^ ((size_t)h >> 17)) & mask;
    for (;;) {
        WordSlot *s = &table[at];
        if (s->id < 0 || (s->h == h && exact_str_eq(first_key[s->id], key))) {
            return s;
        }
        at = (at + 1) & mask;
    }
}

/* One part of the keyword words the ranker reads (lists of the same length; run numbers within
 * the part, 0..n_runs): the title's tokens, then the text's, as TextTokens.after joins them. */
typedef struct {
    PyObject *keys, *surfaces, *runs;
    Py_ssize_t n_runs;
} RankPart;

/* The scratch arrays of one ranking, carved from one allocation (most need no zeroing). */
typedef struct {
    void *block;
    PyObject **keys, **surfs, **pkey, **first_key;
    Py_ssize_t *runs, *wfreq, *wfirst, *wslot, *pfreq, *pstart, *pslot, *occ_start;
    int32_t *wid, *plen, *occ_id;
    char *wtitle, *wentity, *pentity;
    WordSlot *wtable;
    PhraseSlot *ptable;
    Scored *scored;
    double *values, *position;
    size_t wcap, pcap;
} RankScratch;

#define RANK_ARRAYS(X)                                                                           \
    X(scored, Scored, n + max_occ)                                                               \
    X(values, double, n + max_occ)                                                               \
    X(position, double, n_runs + 1)                                                              \
    X(wtable, WordSlot, s->wcap)                                                                 \
    X(ptable, PhraseSlot, s->pcap)                                                               \
    X(keys, PyObject *, n)                                                                       \
    X(surfs, PyObject *, n)                                                                      \
    X(first_key, PyObject *, n)                                                                  \
    X(pkey, PyObject *, max_occ)                                                                 \
    X(runs, Py_ssize_t, n)                                                                       \
    X(wfreq, Py_ssize_t, n)                                                                      \
    X(wfirst, Py_ssize_t, n)                                                                     \
    X(wslot, Py_ssize_t, n)                                                                      \
    X(pfreq, Py_ssize_t, max_occ)                                                                \
    X(pstart, Py_ssize_t, max_occ)                                                               \
    X(pslot, Py_ssize_t, max_occ)                                                                \
    X(occ_start, Py_ssize_t, max_occ)                                                            \
    X(wid, int32_t, n)                                                                           \
    X(plen, int32_t, max_occ)                                                                    \
    X(occ_id, int32_t, max_occ)                                                                  \
    X(wtitle, char, n)                                                                           \
    X(wentity, char, n)                                                                          \
    X(pentity, char, max_occ)

/* each array rounded up to 8 bytes, so each starts aligned */
#define RANK_ARRAY_BYTES(type, count) ((sizeof(type) * (size_t)(count) + 7) & ~(size_t)7)

static int
rank_scratch(RankScratch *s, Py_ssize_t n, Py_ssize_t n_runs)
{
    const Py_ssize_t max_occ = 2 * n + 1;  /* phrase occurrences: fewer than 2 per word */
    s->wcap = 16;
    while (s->wcap < (size_t)(2 * n)) {
        s->wcap <<= 1;
    }
    s->pcap = 16;
    while (s->pcap < (size_t)(2 * max_occ)) {
        s->pcap <<= 1;
    }
    size_t bytes = 0;
#define RANK_SIZE(field, type, count) bytes += RANK_ARRAY_BYTES(type, count);
    RANK_ARRAYS(RANK_SIZE)
#undef RANK_SIZE
    char *p = s->block = PyMem_Malloc(bytes);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
#define RANK_CARVE(field, type, count)                                                           \
    s->field = (type *)(void *)p;                                                                \
    p += RANK_ARRAY_BYTES(type, count);
    RANK_ARRAYS(RANK_CARVE)
#undef RANK_CARVE
    memset(s->wfreq, 0, sizeof(Py_ssize_t) * (size_t)n);
    memset(s->wslot, 0, sizeof(Py_ssize_t) * (size_t)n);
    memset(s->pkey, 0, sizeof(PyObject *) * (size_t)max_occ);
    memset(s->pfreq, 0, sizeof(Py_ssize_t) * (size_t)max_occ);
    memset(s->pslot, 0, sizeof(Py_ssize_t) * (size_t)max_occ);
    memset(s->wtitle, 0, (size_t)n);
    memset(s->wentity, 0, (size_t)n);
    memset(s->pentity, 0, (size_t)max_occ);
    memset(s->wtable, 0xff, sizeof(WordSlot) * s->wcap);  /* id -1: empty */
    memset(s->ptable, 0xff, sizeof(PhraseSlot) * s->pcap); /* id -1: empty */
    return 0;
}

/* marks[id] = 1 for each word whose key is in `set` (a set or frozenset): by looking its members
 * up among the words when all are exact str (the same answer as `key in set`, and a title has a
 * handful of words where a text has hundreds), else by asking the set for each word. */
static int
mark_members(PyObject *set, char *marks, WordSlot *wtable, size_t mask, PyObject *const *first_key,
             Py_ssize_t n_words)
{
    if (PySet_GET_SIZE(set) == 0) {
        return 0;
    }
    PyObject *it = PyObject_GetIter(set);
    if (it == NULL) {
        return -1;
    }
    int all_str = 1;
    for (PyObject *item; (item = PyIter_Next(it)) != NULL;) {
        if (!PyUnicode_CheckExact(item)) {
            all_str = 0;
        }
        else if (all_str) {
            Py_hash_t h = str_hash(item);
            WordSlot *s = word_find(wtable, mask, first_key, item, h);
            if (s->id >= 0) {
                marks[s->id] = 1;
            }
        }
        Py_DECREF(item);
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) {
        return -1;
    }
    if (!all_str) {
        for (Py_ssize_t id = 0; id < n_words; id++) {
            int in = PySet_Contains(set, first_key[id]);
            if (in < 0) {
                return -1;
            }
            marks[id] = (char)in;
        }
    }
    return 0;
}

/* The ranking of the keyword words of parts[0], parts[1], ... in that order, each part's runs
 * numbered after the runs of the parts before it (see keyword_rank). */
static PyObject *
rank_parts(const RankPart *parts, int n_parts, PyObject *title_words, PyObject *entity_keys,
           Py_ssize_t top, PyObject *surface)
{
    if (!PyAnySet_Check(title_words) || !PyAnySet_Check(entity_keys)) {
        PyErr_SetString(PyExc_TypeError, "keyword_rank: title_words and entity_keys must be sets");
        return NULL;
    }
    if (top < 1 || top > MAX_TOP) {
        PyErr_SetString(PyExc_ValueError, "keyword_rank: top must be in 1..1000, n_runs >= 0");
        return NULL;
    }
    Py_ssize_t n = 0, n_runs = 0;
    for (int p = 0; p < n_parts; p++) {
        const Py_ssize_t m = PyList_GET_SIZE(parts[p].keys);
        if (PyList_GET_SIZE(parts[p].surfaces) != m || PyList_GET_SIZE(parts[p].runs) != m) {
            PyErr_SetString(PyExc_ValueError, "keyword_rank: keys, surfaces and runs differ in length");
            return NULL;
        }
        if (parts[p].n_runs < 0 || parts[p].n_runs > PY_SSIZE_T_MAX / 64 - n_runs) {
            PyErr_SetString(PyExc_ValueError, "keyword_rank: top must be in 1..1000, n_runs >= 0");
            return NULL;
        }
        n += m;
        n_runs += parts[p].n_runs;
    }
    if (n > MAX_RANK_WORDS) {
        PyErr_SetString(PyExc_ValueError, "keyword_rank: too many keys");
        return NULL;
    }
    RankScratch s;
    if (rank_scratch(&s, n, n_runs) < 0) {
        return NULL;
    }
    const size_t wmask = s.wcap - 1, pmask = s.pcap - 1;
    PyObject **keys = s.keys, **surfs = s.surfs, **first_key = s.first_key, **pkey = s.pkey;
    Py_ssize_t *runs = s.runs, *wfreq = s.wfreq, *wfirst = s.wfirst, *wslot = s.wslot;
    Py_ssize_t *pfreq = s.pfreq;
    Py_ssize_t *pstart = s.pstart, *pslot = s.pslot, *occ_start = s.occ_start;
    int32_t *wid = s.wid, *plen = s.plen, *occ_id = s.occ_id;
    char *wtitle = s.wtitle, *wentity = s.wentity, *pentity = s.pentity;
    Scored *scored = s.scored;
    double *values = s.values, *position = s.position;
    PyObject *result = NULL, *entity_iter = NULL, *space = NULL;
    PyObject *taken[MAX_TOP];  /* " key " of each chosen phrase (owned) */
    Py_ssize_t chosen[MAX_TOP];  /* index into scored */
    Py_ssize_t n_held = 0, n_taken = 0, n_words = 0, n_phrases = 0, n_occ = 0, n_scored = 0;
    /* spellings of the chosen keys: (slot, spelling, count) in order of first sight */
    PyObject **sp_text = NULL;
    Py_ssize_t *sp_slot = NULL, *sp_count = NULL, n_sp = 0;
    /* a snapshot with our own references: nothing below can change what we read */
    Py_ssize_t offset = 0;
    for (int p = 0; p < n_parts; p++) {
        const Py_ssize_t m = PyList_GET_SIZE(parts[p].keys);
        for (Py_ssize_t j = 0; j < m; j++) {
            PyObject *k = PyList_GET_ITEM(parts[p].keys, j), *sf = PyList_GET_ITEM(parts[p].surfaces, j);
            PyObject *r = PyList_GET_ITEM(parts[p].runs, j);
            if (!PyUnicode_CheckExact(k) || !PyUnicode_CheckExact(sf) || !PyLong_CheckExact(r)) {
                PyErr_SetString(PyExc_TypeError, "keyword_rank: keys and surfaces must be str, runs int");
                goto done;
            }
            Py_ssize_t run = PyLong_AsSsize_t(r);
            if (run == -1 && PyErr_Occurred()) {
                goto done;
            }
            if (run < 0 || run > parts[p].n_runs) {
                PyErr_SetString(PyExc_ValueError, "keyword_rank: a run number is out of range");
                goto done;
            }
            Py_INCREF(k);
            Py_INCREF(sf);
            keys[n_held] = k;
            surfs[n_held] = sf;
            runs[n_held++] = run + offset;
        }
        offset += parts[p].n_runs;
    }
    if (n == 0) {
        result = PyList_New(0);
        goto done;
    }
    position[0] = 0.0;
    for (Py_ssize_t r = 0; r < n_runs; r++) {
        position[r + 1] = 1.0 + 1.0 / (1.0 + 10.0 * (double)r / (double)n_runs);
    }
    /* words: ids in order of first sight, frequency and first sight */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_hash_t h = str_hash(keys[i]);
        WordSlot *slot = word_find(s.wtable, wmask, first_key, keys[i], h);
        if (slot->id < 0) {
            if (has_space(keys[i])) {
                PyErr_SetString(PyExc_ValueError, "keyword_rank: a key contains a space");
                goto done;
            }
            slot->h = h;
            slot->id = n_words;
            first_key[n_words] = keys[i];
            wfirst[n_words++] = i;
        }
        wid[i] = (int32_t)slot->id;
        wfreq[slot->id]++;
    }
    if (mark_members(title_words, wtitle, s.wtable, wmask, first_key, n_words) < 0
        || mark_members(entity_keys, wentity, s.wtable, wmask, first_key, n_words) < 0) {
        goto done;
    }
    for (Py_ssize_t id = 0; id < n_words; id++) {
        int in_title = wtitle[id], in_entity = wentity[id];
        double f = (double)(wfreq[id] * wfreq[id]);
        double score = f * position[runs[wfirst[id]]];
        if (in_title || in_entity) {
            score *= (in_title ? 1.5 : 1.0) * (in_entity ? 1.5 : 1.0);
        }
        scored[n_scored].key = first_key[id];
        scored[n_scored].id = id;
        scored[n_scored++].score = score;
    }
    /* phrases: 2-grams, then 3-grams, inside one run (the same run at both ends) */
    for (Py_ssize_t len = 2; len <= MAX_PHRASE_WORDS; len++) {
        for (Py_ssize_t i = 0; i + len <= n; i++) {
            if (runs[i] != runs[i + len - 1]) {
                continue;
            }
            int32_t w[MAX_PHRASE_WORDS] = {-1, -1, -1};
            for (Py_ssize_t k = 0; k < len; k++) {
                w[k] = wid[i + k];
            }
            PhraseSlot *slot = phrase_find(s.ptable, pmask, w);
            if (slot->id < 0) {
                memcpy(slot->w, w, sizeof(w));
                slot->id = (int32_t)n_phrases;
                pstart[n_phrases] = i;
                plen[n_phrases++] = (int32_t)len;
            }
            pfreq[slot->id]++;
            occ_id[n_occ] = slot->id;
            occ_start[n_occ++] = i;
        }
    }
    /* entity names that are phrases of the text: "a b" is the phrase of the words "a" and "b" */
    if (PySet_GET_SIZE(entity_keys) > 0) {
        entity_iter = PyObject_GetIter(entity_keys);
        space = PyUnicode_FromOrdinal(' ');
        if (entity_iter == NULL || space == NULL) {
            goto done;
        }
        for (PyObject *name; (name = PyIter_Next(entity_iter)) != NULL;) {
            /* name == " ".join(parts) always; it is a phrase when the parts are its words */
            PyObject *parts_of = PyUnicode_Check(name) ? PyUnicode_Split(name, space, -1) : NULL;
            Py_DECREF(name);
            if (parts_of == NULL) {
                if (PyErr_Occurred()) {
                    goto done;
                }
                continue;  /* not a str: equal to no phrase */
            }
            int32_t w[MAX_PHRASE_WORDS] = {-1, -1, -1};
            Py_ssize_t n_of = PyList_GET_SIZE(parts_of);
            int ok = n_of >= 2 && n_of <= MAX_PHRASE_WORDS;
            for (Py_ssize_t k = 0; ok && k < n_of; k++) {
                PyObject *part = PyList_GET_ITEM(parts_of, k);  /* exact str */
                WordSlot *ws = word_find(s.wtable, wmask, first_key, part, str_hash(part));
                w[k] = (int32_t)ws->id;
                ok = ws->id >= 0;
            }
            Py_DECREF(parts_of);
            if (ok) {
                PhraseSlot *slot = phrase_find(s.ptable, pmask, w);
                if (slot->id >= 0) {
                    pentity[slot->id] = 1;
                }
            }
        }
        if (PyErr_Occurred()) {
            goto done;
        }
    }
    for (Py_ssize_t id = 0; id < n_phrases; id++) {
        if (pfreq[id] < 2 && !pentity[id]) {
            continue;  /* a phrase seen once counts only when it is an entity name */
        }
        Py_ssize_t len = plen[id], st = pstart[id], tf = 0, in_title = 0;
        pkey[id] = join_spaced(keys + st, len, 0);
        if (pkey[id] == NULL) {
            goto done;
        }
        for (Py_ssize_t k = st; k < st + len; k++) {
            tf += wfreq[wid[k]];
            in_title += wtitle[wid[k]];
        }
        double mean_tf = (double)tf / (double)len;
        double boost = (1.0 + 0.5 * (double)in_title / (double)len) * (pentity[id] ? 1.5 : 1.0);
        double length = 1.0 + 0.5 * (double)(len - 1);
        scored[n_scored].key = pkey[id];
        scored[n_scored].id = -1 - id;
        scored[n_scored++].score = (double)pfreq[id] * mean_tf * length * position[runs[st]] * boost;
    }
    /* The best n_best in order (those scoring at least the n_best-th score, sorted), then, only
     * if a second pass needs them, the rest: the order of sorting all of them. */
    const Py_ssize_t n_best = 8 * top > 64 ? 8 * top : 64;
    Py_ssize_t n_sorted = n_scored;
    if (n_scored > n_best) {
        for (Py_ssize_t c = 0; c < n_scored; c++) {
            values[c] = scored[c].score;
        }
        const double cutoff = kth_largest(values, n_scored, n_best - 1);
        Py_ssize_t lo = 0;  /* those >= cutoff to the front (the rest keep no order) */
        for (Py_ssize_t c = 0; c < n_scored; c++) {
            if (scored[c].score >= cutoff) {
                Scored t = scored[lo];
                scored[lo++] = scored[c];
                scored[c] = t;
            }
        }
        n_sorted = lo;
    }
    qsort(scored, n_sorted, sizeof(Scored), scored_order);
    /* each in turn unless it overlaps one already chosen */
    const Py_ssize_t first_pass = n_best < n_scored ? n_best : n_scored;
    for (Py_ssize_t c = 0; c < n_scored && n_taken < top; c++) {
        if (c == first_pass && !(top < n_scored && first_pass < n_scored)) {
            break;  /* the first pass reads the best n_best; a second one all, if still short */
        }
        if (c == n_sorted) {  /* the second pass reaches the unsorted rest */
            qsort(scored + n_sorted, n_scored - n_sorted, sizeof(Scored), scored_order);
            n_sorted = n_scored;
        }
        PyObject *padded = join_spaced(&scored[c].key, 1, 1);
        if (padded == NULL) {
            goto done;
        }
        int overlaps = 0;
        for (Py_ssize_t t = 0; t < n_taken && !overlaps; t++) {
            int a = PyUnicode_Contains(taken[t], padded);
            int b = a ? a : PyUnicode_Contains(padded, taken[t]);
            if (a < 0 || b < 0) {
                Py_DECREF(padded);
                goto done;
            }
            overlaps = a || b;
        }
        if (overlaps) {
            Py_DECREF(padded);
            continue;
        }
        Py_ssize_t id = scored[c].id;
        if (id >= 0) {
            wslot[id] = n_taken + 1;
        }
        else {
            pslot[-1 - id] = n_taken + 1;
        }
        taken[n_taken] = padded;
        chosen[n_taken++] = c;
    }
    /* spellings: (key, spelling) counted in order of first sight, words first, then phrases */
    sp_text = PyMem_Calloc(n + n_occ + 1, sizeof(PyObject *));
    sp_slot = PyMem_Calloc(n + n_occ + 1, sizeof(Py_ssize_t));
    sp_count = PyMem_Calloc(n + n_occ + 1, sizeof(Py_ssize_t));
    if (!sp_text || !sp_slot || !sp_count) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n + n_occ; i++) {
        Py_ssize_t slot = (i < n ? wslot[wid[i]] : pslot[occ_id[i - n]]) - 1;
        if (slot < 0) {
            continue;
        }
        PyObject *text;
        if (i < n) {
            text = spelled(surfs[i], surface);
        }
        else {
            Py_ssize_t st = occ_start[i - n], len = plen[occ_id[i - n]];
            PyObject *words[MAX_PHRASE_WORDS] = {NULL};
            int ok = 1;
            for (Py_ssize_t k = 0; k < len && ok; k++) {
                words[k] = spelled(surfs[st + k], surface);
                ok = words[k] != NULL;
            }
            text = ok ? join_spaced(words, len, 0) : NULL;
            for (Py_ssize_t k = 0; k < len; k++) {
                Py_XDECREF(words[k]);
            }
        }
        if (text == NULL) {
            goto done;
        }
        Py_ssize_t found = -1;
        for (Py_ssize_t j = 0; j < n_sp && found < 0; j++) {
            if (sp_slot[j] == slot && PyUnicode_Compare(sp_text[j], text) == 0) {
                found = j;
            }
        }
        if (found >= 0) {
            sp_count[found]++;
            Py_DECREF(text);
        }
        else {
            sp_text[n_sp] = text;
            sp_slot[n_sp] = slot;
            sp_count[n_sp++] = 1;
        }
    }
    result = PyList_New(n_taken);
    if (result == NULL) {
        goto done;
    }
    const double best = scored[chosen[0]].score;
    for (Py_ssize_t t = 0; t < n_taken; t++) {
        Py_ssize_t pick = -1;
        for (Py_ssize_t j = 0; j < n_sp; j++) {  /* the first of the most frequent */
            if (sp_slot[j] == t && (pick < 0 || sp_count[j] > sp_count[pick])) {
                pick = j;
            }
        }
        if (pick < 0) {
            PyErr_SetString(PyExc_RuntimeError, "keyword_rank: a chosen key was never seen");
            Py_CLEAR(result);
            goto done;
        }
        PyObject *item = Py_BuildValue("(Od)", sp_text[pick], scored[chosen[t]].score / best);
        if (item == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, t, item);
    }
done:
    for (Py_ssize_t t = 0; t < n_taken; t++) {
        Py_DECREF(taken[t]);
    }
    for (Py_ssize_t j = 0; j < n_sp; j++) {
        Py_DECREF(sp_text[j]);
    }
    for (Py_ssize_t i = 0; i < n_held; i++) {
        Py_DECREF(keys[i]);
        Py_DECREF(surfs[i]);
    }
    for (Py_ssize_t id = 0; id < n_phrases; id++) {
        Py_XDECREF(pkey[id]);
    }
    Py_XDECREF(entity_iter);
    Py_XDECREF(space);
    PyMem_Free(s.block);
    PyMem_Free(sp_text);
    PyMem_Free(sp_slot);
    PyMem_Free(sp_count);
    return result;
}

/* keyword_rank(keys, surfaces, runs, n_runs, title_words, entity_keys, top, surface)
 *     -> list[(spelling, score / best score)]
 *     What `pipeline.enrich._keywords._rank_python` computes, in the same floating-point order:
 *     word and 2-3-word phrase scores, the best `top` that do not overlap, each with its most
 *     frequent spelling. keys, surfaces: lists of exact str, keys without a space (a phrase is
 *     its words joined by one space); runs: list of int in [0, n_runs]; title_words,
 *     entity_keys: set or frozenset; surface: the spelling of a token that does not start with
 *     a letter. */
static PyObject *
keyword_rank(PyObject *self, PyObject *args)
{
    RankPart part;
    PyObject *title_words, *entity_keys, *surface;
    Py_ssize_t top;
    if (!PyArg_ParseTuple(args, "O!O!O!nOOnO:keyword_rank", &PyList_Type, &part.keys, &PyList_Type,
                          &part.surfaces, &PyList_Type, &part.runs, &part.n_runs, &title_words,
                          &entity_keys, &top, &surface)) {
        return NULL;
    }
    return rank_parts(&part, 1, title_words, entity_keys, top, surface);
}

/* keyword_rank_after(first_keys, first_surfaces, first_runs, first_n_runs, keys, surfaces, runs,
 *                    n_runs, title_words, entity_keys, top, surface) -> list
 *     keyword_rank of the first tokens followed by the others in runs of their own (numbered
 *     after the first's): what `TextTokens.after` joins (the title's tokens, then the text's),
 *     without making the joined lists. */
static PyObject *
keyword_rank_after(PyObject *self, PyObject *args)
{
    RankPart parts[2];
    PyObject *title_words, *entity_keys, *surface;
    Py_ssize_t top;
    if (!PyArg_ParseTuple(args, "O!O!O!nO!O!O!nOOnO:keyword_rank_after", &PyList_Type, &parts[0].keys,
                          &PyList_Type, &parts[0].surfaces, &PyList_Type, &parts[0].runs,
                          &parts[0].n_runs, &PyList_Type, &parts[1].keys, &PyList_Type,
                          &parts[1].surfaces, &PyList_Type, &parts[1].runs, &parts[1].n_runs,
                          &title_words, &entity_keys, &top, &surface)) {
        return NULL;
    }
    return rank_parts(parts, 2, title_words, entity_keys, top, surface);
}

/* ------------------------------------------------------------ keyword scan (tokens and runs) */

/* str.isalnum() of one character (Python's tables; the ASCII range without them). */
static inline int
kw_alnum(Py_UCS4 c)
{
    if (c < 128) {
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    }
    return Py_UNICODE_ISALNUM(c);
}

/* The end of the `_TOKEN` match starting at i (as `_TOKEN.finditer` finds them), or -1 when none
 * starts there; *word says whether it is a word (else a punctuation mark that breaks runs). */
static inline Py_ssize_t
kw_token_end(int kind, const void *data, Py_ssize_t n, Py_ssize_t i, int *word)
{
    Py_UCS4 c = PyUnicode_READ(kind, data, i);
    *word = 0;
    if (kw_alnum(c)) {
        Py_ssize_t end = i + 1;
        while (end < n && kw_alnum(PyUnicode_READ(kind, data, end))) {
            end++;
        }
        for (;;) { /* (joiners, then alphanumerics)*: each round only if both are there */
            Py_ssize_t j = end;
            while (j < n && is_joiner(PyUnicode_READ(kind, data, j))) {
                j++;
            }
            if (j == end || j >= n || !kw_alnum(PyUnicode_READ(kind, data, j))) {
                break;
            }
            end = j + 1;
            while (end < n && kw_alnum(PyUnicode_READ(kind, data, end))) {
                end++;
            }
        }
        *word = 1;
        return end;
    }
    if (is_break_mark(c)) {
        return i + 1;
    }
    if (c == '\'' && i > 0 && i + 1 < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i - 1))
        && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i + 1))) {
        return i + 1;
    }
    return -1;
}

/* The word tokens already seen, with their kinds from the memo: a word seen before costs a hash
 * of its characters and a comparison, where making its str and asking the memo cost ~4x that
 * (most words of a text are seen before: the bench corpus has 36k distinct tokens in 2M).
 * Open addressing over the code points, 8 bytes a slot (part of the hash and the entry), the
 * entries (token, kind) dense in order of first sight: 1.5 MB in all, where 24-byte slots
 * holding both took 3 MB and missed the cache on most lookups. Cleared when full, and when
 * another memo comes; only kinds the memo gave are kept (a kind is a function of the token). */
typedef struct {
    uint32_t h;      /* the high half of the hash */
    uint32_t entry;  /* index + 1 into token_entries; 0: empty slot */
} TokenSlot;

typedef struct {
    PyObject *tok;   /* owned */
    PyObject *kind;  /* owned: what the memo gave for tok */
} TokenEntry;

#define TOKEN_CACHE_SLOTS ((size_t)1 << 17)
#define TOKEN_CACHE_ENTRIES (TOKEN_CACHE_SLOTS / 2)  /* 64k tokens before a clear */
static TokenSlot *token_slots;
static TokenEntry *token_entries;
static size_t token_cache_used;
static PyObject *token_cache_memo;  /* owned: the memo the kinds came from */

static void
token_cache_clear(void)
{
    const size_t used = token_cache_used;
    token_cache_used = 0;
    if (token_slots != NULL) {
        memset(token_slots, 0, TOKEN_CACHE_SLOTS * sizeof(TokenSlot));
    }
    for (size_t k = 0; k < used; k++) {
        Py_DECREF(token_entries[k].tok);  /* a str and a str or None: no code runs */
        Py_DECREF(token_entries[k].kind);
    }
}

static inline uint64_t
token_hash(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (Py_ssize_t k = start; k < end; k++) {
        h = (h ^ PyUnicode_READ(kind, data, k)) * 0x100000001B3ULL;
    }
    return h ^ (h >> 29);
}

/* The slot of the token text[start:end] (entry 0 when absent: the slot to fill). */
static TokenSlot *
token_find(uint64_t h, int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    const size_t mask = TOKEN_CACHE_SLOTS - 1;
    const uint32_t high = (uint32_t)(h >> 32);
    const Py_ssize_t len = end - start;
    for (size_t at = (size_t)h & mask;; at = (at + 1) & mask) {
        TokenSlot *s = &token_slots[at];
        if (s->entry == 0) {
            return s;
        }
        if (s->h != high) {
            continue;
        }
        PyObject *tok = token_entries[s->entry - 1].tok;
        if (PyUnicode_GET_LENGTH(tok) != len) {
            continue;
        }
        const int tkind = PyUnicode_KIND(tok);
        const void *tdata = PyUnicode_DATA(tok);
        int same = 1;
        if (tkind == kind) {
            same = memcmp(tdata, (const char *)data + start * kind, (size_t)(len * kind)) == 0;
        }
        else {
            for (Py_ssize_t k = 0; k < len && same; k++) {
                same = PyUnicode_READ(tkind, tdata, k) == PyUnicode_READ(kind, data, start + k);
            }
        }
        if (same) {
            return s;
        }
    }
}

/* keyword_scan(text, kinds) -> (keys, surfaces, runs, n_runs, n_words)
 *     `pipeline.enrich._keywords.tokenize` in one pass over the text: the tokens of `_TOKEN`,
 *     each word's kind from the memo `kinds`, then the keyword words (casefolded keys and tokens
 *     as written), the run number of each (from 1; a run starts at a word whose previous
 *     non-number token is no keyword word), the number of runs and n_words (the tokens that are
 *     no punctuation, kind "": what tokenize counts as words). Numbers (kind " ") are skipped as
 *     if absent. No str is made for punctuation (it breaks runs: what the memo says of it) nor for a word the
 *     cache above has seen; the memo `kinds` (a dict; a miss goes through its __missing__) is
 *     asked only for new words. */
static PyObject *
keyword_scan(PyObject *self, PyObject *args)
{
    PyObject *text, *memo;
    if (!PyArg_ParseTuple(args, "UO!:keyword_scan", &text, &PyDict_Type, &memo)) {
        return NULL;
    }
    if (token_slots == NULL) {
        token_slots = PyMem_Calloc(TOKEN_CACHE_SLOTS, sizeof(TokenSlot));
        token_entries = PyMem_Calloc(TOKEN_CACHE_ENTRIES, sizeof(TokenEntry));
        if (token_slots == NULL || token_entries == NULL) {
            PyMem_Free(token_slots);
            PyMem_Free(token_entries);
            token_slots = NULL;
            token_entries = NULL;
            return PyErr_NoMemory();
        }
    }
    if (memo != token_cache_memo) {
        token_cache_clear();
        Py_INCREF(memo);
        Py_XSETREF(token_cache_memo, memo);
    }
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *keys = PyList_New(0), *surfaces = PyList_New(0), *runs = PyList_New(0);
    if (keys == NULL || surfaces == NULL || runs == NULL) {
        goto error;
    }
    Py_ssize_t run = 0, tokens = 0, marks = 0;
    int after_word = 0;
    for (Py_ssize_t i = 0; i < n;) {
        int word;
        const Py_ssize_t end = kw_token_end(kind, data, n, i, &word);
        if (end < 0) {
            i++;
            continue;
        }
        tokens++;
        if (!word) {
            marks++;
            after_word = 0;
            i = end;
            continue;
        }
        const uint64_t h = token_hash(kind, data, i, end);
        /* (a memo's __missing__ may have scanned with another memo, which took the cache) */
        TokenSlot *slot = memo == token_cache_memo ? token_find(h, kind, data, i, end) : NULL;
        PyObject *tok = NULL, *kd = NULL;
        if (slot != NULL && slot->entry != 0) {
            tok = token_entries[slot->entry - 1].tok;
            kd = token_entries[slot->entry - 1].kind;
            Py_INCREF(tok);
            Py_INCREF(kd);
        }
        else {
            tok = PyUnicode_Substring(text, i, end);
            if (tok == NULL) {
                goto error;
            }
            kd = PyDict_GetItemWithError(memo, tok);
            if (kd != NULL) {
                Py_INCREF(kd);
            }
            else if (!PyErr_Occurred()) {
                kd = PyObject_GetItem(memo, tok);  /* may run code: the slot is looked up again */
            }
            if (kd == NULL) {
                Py_DECREF(tok);
                goto error;
            }
            if (kd != Py_None && !PyUnicode_Check(kd)) {
                PyErr_SetString(PyExc_TypeError, "keyword_scan: a kind must be a str or None");
                Py_DECREF(tok);
                Py_DECREF(kd);
                goto error;
            }
            if (memo == token_cache_memo) {
                if (token_cache_used >= TOKEN_CACHE_ENTRIES) {
                    token_cache_clear();
                }
                slot = token_find(h, kind, data, i, end);
                if (slot->entry == 0) {
                    Py_INCREF(tok);
                    Py_INCREF(kd);
                    token_entries[token_cache_used].tok = tok;
                    token_entries[token_cache_used].kind = kd;
                    slot->h = (uint32_t)(h >> 32);
                    slot->entry = (uint32_t)++token_cache_used;
                }
            }
        }
        int failed = 0;
        if (kd == Py_None) {
            after_word = 0;
        }
        else if (PyUnicode_GET_LENGTH(kd) == 0) {
            marks++;
            after_word = 0;
        }
        else if (!(PyUnicode_GET_LENGTH(kd) == 1 && PyUnicode_READ_CHAR(kd, 0) == ' ')) {
            if (!after_word) {
                run++;
            }
            after_word = 1;
            PyObject *number = PyLong_FromSsize_t(run);
            failed = number == NULL || PyList_Append(keys, kd) < 0
                     || PyList_Append(surfaces, tok) < 0 || PyList_Append(runs, number) < 0;
            Py_XDECREF(number);
        }
        Py_DECREF(kd);
        Py_DECREF(tok);
        if (failed) {
            goto error;
        }
        i = end;
    }
    return Py_BuildValue("(NNNnn)", keys, surfaces, runs, run, tokens - marks);
error:
    Py_XDECREF(keys);
    Py_XDECREF(surfaces);
    Py_XDECREF(runs);
    return NULL;
}

/* ------------------------------------------------------------------------ article features */

/* The kinds of the token memo's entries (pipeline.dedup._features._K_FEAT, ...: range(5)). */
enum { K_FEAT = 0, K_CAP = 1, K_SKIP = 2, K_NUMWORD = 3, K_NUM = 4 };

/* "\n" in the gap text[start:end], or `_SENT_END_RE.search` finds `[.!?:;"“”]\s*$` in it: its
 * last character that is no white space (str.isspace, as the regex's \s) ends a sentence. */
static int
gap_ends_sentence(int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    for (Py_ssize_t k = start; k < end; k++) {
        if (PyUnicode_READ(kind, data, k) == '\n') {
            return 1;
        }
    }
    Py_ssize_t k = end;
    while (k > start && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, k - 1))) {
        k--;
    }
    if (k == start) {
        return 0;
    }
    Py_UCS4 c = PyUnicode_READ(kind, data, k - 1);
    return c == '.' || c == '!' || c == '?' || c == ':' || c == ';' || c == '"' || c == 0x201C ||
           c == 0x201D;
}

/* `_names_in(text)`: the set of the lower-cased matches of `[A-Z](?<=[a-z,] [A-Z])[A-Za-z]+`. */
static PyObject *
names_in(int kind, const void *data, Py_ssize_t n)
{
    PyObject *names = PySet_New(NULL);
    if (names == NULL) {
        return NULL;
    }
    for (Py_ssize_t p = 2; p + 1 < n; p++) {
#if defined(__SSE2__)
        /* in a 1-byte text, 16 positions at a time to the next capital after a space (the scalar
         * test below rejects the others on their first character: a byte loop over the whole
         * text, 8% of the kernel's time on the bench corpus) */
        if (kind == PyUnicode_1BYTE_KIND && p + 16 < n) {
            const Py_UCS1 *q = (const Py_UCS1 *)data + p;
            const __m128i c16 = _mm_loadu_si128((const __m128i *)q);
            const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(c16, _mm_set1_epi8('A' - 1)),
                                                _mm_cmplt_epi8(c16, _mm_set1_epi8('Z' + 1)));
            const __m128i spaced = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(q - 1)), _mm_set1_epi8(' '));
            const int mask = _mm_movemask_epi8(_mm_and_si128(upper, spaced));
            if (mask == 0) {
                p += 15;
                continue;
            }
            p += __builtin_ctz((unsigned)mask);
        }
#endif
        Py_UCS4 c = PyUnicode_READ(kind, data, p);
        if (c < 'A' || c > 'Z' || PyUnicode_READ(kind, data, p - 1) != ' ') {
            continue;
        }
        Py_UCS4 b = PyUnicode_READ(kind, data, p - 2);
        if (!((b >= 'a' && b <= 'z') || b == ',') || !ascii_letter(PyUnicode_READ(kind, data, p + 1))) {
            continue;
        }
        Py_ssize_t e = p + 2;
        while (e < n && ascii_letter(PyUnicode_READ(kind, data, e))) {
            e++;
        }
        PyObject *name = PyUnicode_New(e - p, 127);
        if (name == NULL) {
            Py_DECREF(names);
            return NULL;
        }
        Py_UCS1 *w = PyUnicode_1BYTE_DATA(name);
        for (Py_ssize_t k = p; k < e; k++) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, k);
            w[k - p] = (Py_UCS1)(ch <= 'Z' ? ch + ('a' - 'A') : ch);
        }
        int rc = PySet_Add(names, name);
        Py_DECREF(name);
        if (rc < 0) {
            Py_DECREF(names);
            return NULL;
        }
        p = e - 1; /* findall goes on after the match (its next character is no letter) */
    }
    return names;
}

/* Appends the number feature of `value` (a float): from the memo dict, else from the callable
 * (which fills the memo). */
static int
append_number(PyObject *out, PyObject *memo, PyObject *make, PyObject *value)
{
    PyObject *feat = PyDict_GetItemWithError(memo, value);
    if (feat != NULL) {
        return PyList_Append(out, feat);
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    feat = PyObject_CallOneArg(make, value);
    if (feat == NULL) {
        return -1;
    }
    int rc = PyList_Append(out, feat);
    Py_DECREF(feat);
    return rc;
}

/* The memo entry of a raw token (a new reference): from the dict, else from the callable (which
 * fills it, and may clear it and the fast memo first). */
static PyObject *
token_entry(PyObject *memo, PyObject *make, PyObject *tok)
{
    PyObject *entry = PyDict_GetItemWithError(memo, tok);
    if (entry != NULL) {
        Py_INCREF(entry);
    }
    else if (PyErr_Occurred()) {
        return NULL;
    }
    else if ((entry = PyObject_CallOneArg(make, tok)) == NULL) {
        return NULL;
    }
    if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) < 3) {
        PyErr_SetString(PyExc_TypeError, "features: a token entry is no tuple of 3 or more items");
        Py_DECREF(entry);
        return NULL;
    }
    return entry;
}

/* The memos' mirror, kept by the features kernel between its calls: for each short ASCII token
 * looked up so far, its value in the fast memo, or (when it is not there) its entry in the entries
 * memo, in a table of 32-byte slots keyed by the token's characters. A token is then found
 * without making its str, hashing it with SipHash and walking a dict's index, entry and key
 * object: three misses in the CPU caches for a token not seen lately, which `perf` put at 45% of
 * the kernel's time (`unicodekeys_lookup_unicode`) on the bench corpus. The slots hold borrowed
 * pointers to the memos' own objects; the scan prefetches each token's slot a few tokens ahead.
 *
 * Exact because the mirror is only used while the memos are the dicts it mirrors, unchanged
 * since: a dict's `ma_version_tag` (PEP 509) changes at each change to it and is unique among
 * all dicts ever made, so (dict, version) names one state of one dict; the mirror then holds no
 * stale slot, and the objects it points to are the memos', alive. Any other change (a clear, a
 * value replaced, other dicts passed) flushes it at its next use. The one change it follows is
 * the one the kernel's call back makes on a miss, `_cache_token` adding the token: after a call
 * back that grew the entries memo by one item and the fast memo by one or none, the mirror takes
 * the new versions and the token's slot (the call back's contract: it adds that token to the
 * memos, having maybe cleared them first; a clear leaves fewer items, so it flushes). */

#if PY_VERSION_HEX >= 0x030C0000
/* PEP 699 deprecates `ma_version_tag` from Python 3.12 on: there the mirror is off (every token
 * goes to the dicts, as before it) until it is redone with dict watchers. */
#define FM_ON 0
#define FM_VERSION(dict) ((uint64_t)0)
#else
#define FM_ON 1
#define FM_VERSION(dict) (((PyDictObject *)(dict))->ma_version_tag)
#endif
#define FM_KEY_MAX 24          /* the longest token mirrored */
#define FM_MIN_SLOTS 4096      /* 128 kB */
#define FM_MAX_SLOTS (1 << 20) /* 32 MB; the memos are capped at 100,000 tokens (_TOKEN_CACHE_MAX) */

typedef struct {
    uint64_t w[3]; /* the token's characters, zero-padded (fm_key); w[0] == 0: an empty slot */
    PyObject *value;
} fm_slot;

static uint64_t fm_absent_marker;
#define FM_ABSENT ((PyObject *)&fm_absent_marker)
/* a slot's value with its lowest bit set: the entries memo's entry (an object's address is even) */
#define FM_IS_ENTRY(v) (((uintptr_t)(v)&1) != 0)
#define FM_ENTRY(v) ((PyObject *)((uintptr_t)(v) & ~(uintptr_t)1))
#define FM_TAG_ENTRY(v) ((PyObject *)((uintptr_t)(v) | 1))

static struct {
    fm_slot *slots;
    size_t mask;
    Py_ssize_t count;
    PyObject *dict;        /* the fast memo mirrored: compared by address only, no reference held */
    uint64_t version;      /* its ma_version_tag when the mirror was last in step with it */
    PyObject *memo;        /* the entries memo (same) */
    uint64_t memo_version; /* (same) */
} fm;

static inline uint64_t
fm_hash(const uint64_t w[3])
{
    uint64_t h = (w[0] ^ (w[1] * 0xC2B2AE3D27D4EB4FULL) ^ (w[2] * 0x165667B19E3779F9ULL)) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

/* A token's key (w: its characters, zero-padded; a token holds no NUL) and hash; 0 when it is
 * not mirrored (too long, or a character past ASCII: the tokens of a 1-byte text have none). The
 * characters of a 1-byte text are read 8 at a time when 24 of them are there (bytes stored one
 * by one and read back as words stall the store forwarding: 14% of the kernel's time). */
static inline int
fm_key(int kind, const void *data, Py_ssize_t n, Py_ssize_t start, Py_ssize_t end, uint64_t w[3],
       uint64_t *hash)
{
    const Py_ssize_t len = end - start;
    if (len > FM_KEY_MAX) {
        return 0;
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (kind == PyUnicode_1BYTE_KIND && n - start >= 24) {
        const Py_UCS1 *p = (const Py_UCS1 *)data + start;
        for (int k = 0; k < 3; k++) {
            uint64_t v;
            memcpy(&v, p + 8 * k, 8);
            const Py_ssize_t keep = len - 8 * k; /* how many of these 8 are the token's */
            w[k] = keep >= 8 ? v : keep <= 0 ? 0 : v & ((1ULL << (8 * keep)) - 1);
        }
        *hash = fm_hash(w);
        return 1;
    }
#endif
    uint8_t b[24] = {0};
    for (Py_ssize_t k = 0; k < len; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, start + k);
        if (c >= 128) {
            return 0;
        }
        b[k] = (uint8_t)c;
    }
    memcpy(w, b, 24);
    *hash = fm_hash(w);
    return 1;
}

/* Whether the mirror is in step with the memos (fm_sync without flushing). */
static inline int
fm_in_step(PyObject *dict, PyObject *memo)
{
    return FM_ON && fm.slots != NULL && fm.dict == dict && fm.version == FM_VERSION(dict) &&
           fm.memo == memo && fm.memo_version == FM_VERSION(memo);
}

/* Whether the mirror is in step with the memos (flushed first when it is not); 0 when it has no
 * table (no memory: the kernel then looks everything up in the dicts). */
static int
fm_sync(PyObject *dict, PyObject *memo)
{
    if (fm_in_step(dict, memo)) {
        return 1;
    }
    if (!FM_ON) {
        return 0;
    }
    if (fm.slots == NULL || fm.mask + 1 > FM_MIN_SLOTS) { /* back to the smallest table */
        PyMem_RawFree(fm.slots);
        fm.slots = PyMem_RawCalloc(FM_MIN_SLOTS, sizeof(fm_slot));
        fm.mask = FM_MIN_SLOTS - 1;
    }
    else {
        memset(fm.slots, 0, FM_MIN_SLOTS * sizeof(fm_slot));
    }
    fm.count = 0;
    fm.dict = dict;
    fm.version = FM_VERSION(dict);
    fm.memo = memo;
    fm.memo_version = FM_VERSION(memo);
    return fm.slots != NULL;
}

/* The slot of key w: its own, or the empty one where it goes. */
static inline fm_slot *
fm_find(const uint64_t w[3], uint64_t hash)
{
    size_t i = (size_t)hash & fm.mask;
    for (;;) {
        fm_slot *s = &fm.slots[i];
        if (s->w[0] == 0 || (s->w[0] == w[0] && s->w[1] == w[1] && s->w[2] == w[2])) {
            return s;
        }
        i = (i + 1) & fm.mask;
    }
}

/* Records `value` for key w (the fast memo's, a tuple; or FM_TAG_ENTRY(the entries memo's entry,
 * a tuple of 3 or more items) or FM_ABSENT for a token not in the fast memo); the mirror must be
 * in step.
 * Growing the table past its limit or out of memory flushes it instead (it is a cache). */
static void
fm_store(const uint64_t w[3], uint64_t hash, PyObject *value)
{
    if (FM_IS_ENTRY(value) ? !PyTuple_Check(FM_ENTRY(value)) || PyTuple_GET_SIZE(FM_ENTRY(value)) < 3
                           : value != FM_ABSENT && !PyTuple_Check(value)) {
        return; /* left to the dict path, which raises */
    }
    fm_slot *s = fm_find(w, hash);
    if (s->w[0] != 0) {
        s->value = value;
        return;
    }
    if ((size_t)(fm.count + 1) * 3 > (fm.mask + 1) * 2) { /* past 2/3 full: double */
        const size_t size = (fm.mask + 1) * 2;
        fm_slot *old = fm.slots, *grown = size <= FM_MAX_SLOTS ? PyMem_RawCalloc(size, sizeof(fm_slot)) : NULL;
        if (grown == NULL) {
            fm.dict = NULL; /* flushed at the next fm_sync */
            return;
        }
        const size_t old_size = fm.mask + 1;
        fm.slots = grown;
        fm.mask = size - 1;
        for (size_t k = 0; k < old_size; k++) {
            if (old[k].w[0] != 0) {
                *fm_find(old[k].w, fm_hash(old[k].w)) = old[k];
            }
        }
        PyMem_RawFree(old);
        s = fm_find(w, hash);
    }
    memcpy(s->w, w, sizeof(s->w));
    s->value = value;
    fm.count++;
}

/* A token ahead of the kernel's loop: where it is in the text, and its mirror key. */
typedef struct {
    Py_ssize_t start, end;
    uint64_t w[3], hash;
    int keyed; /* whether the token is mirrored (fm_key) */
} fm_token;

#define FM_RING 16 /* the queue of tokens ahead (a power of 2) */
#define FM_AHEAD 12 /* how many tokens ahead the scan runs, their slots prefetched meanwhile */

/* Scans tokens from *i until `queued` tokens are queued after `head` in the ring (or the text
 * ends), prefetching the mirror slot of each: the slot is in the CPU caches when the loop gets
 * to its token. Returns the number queued. */
static inline int
fm_scan(int kind, const void *data, Py_ssize_t n, Py_ssize_t *i, fm_token *ring, int head, int queued)
{
    while (queued < FM_AHEAD && *i < n) {
        const Py_ssize_t end = token_end(kind, data, n, *i);
        if (end < 0) {
            (*i)++;
            continue;
        }
        fm_token *t = &ring[(head + queued) & (FM_RING - 1)];
        t->start = *i;
        t->end = end;
        t->keyed = fm_key(kind, data, n, *i, end, t->w, &t->hash);
        if (t->keyed && fm.slots != NULL) {
            __builtin_prefetch(&fm.slots[t->hash & fm.mask]);
        }
        queued++;
        *i = end;
    }
    return queued;
}

/* After the entry of token `tok` was looked up (`token_entry`, which may call back) with the
 * mirror in step with the memos, of `size` and `memo_size` items then: the token's slot (when `t`,
 * its key, is given: NULL for a token not mirrored) takes the token's value in the fast memo, or
 * its entry when it is not there. A call back may add the token to the memos (the contract of
 * `_cache_token`): when the fast memo grew by one item or not at all and the entries memo by one,
 * the mirror follows; after any other change it is flushed at its next fm_sync. -1 on an error. */
static int
fm_follow(PyObject *dict, PyObject *memo, Py_ssize_t size, Py_ssize_t memo_size, const fm_token *t,
          PyObject *tok)
{
    const uint64_t version = FM_VERSION(dict);
    const uint64_t memo_version = FM_VERSION(memo);
    if (fm.dict != dict || fm.memo != memo ||
        (version != fm.version && PyDict_GET_SIZE(dict) != size + 1) ||
        (memo_version != fm.memo_version && PyDict_GET_SIZE(memo) != memo_size + 1)) {
        return 0;
    }
    fm.version = version;
    fm.memo_version = memo_version;
    if (t == NULL) {
        return 0;
    }
    PyObject *value = PyDict_GetItemWithError(dict, tok);
    if (value == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        PyObject *entry = PyDict_GetItemWithError(memo, tok);
        if (entry == NULL && PyErr_Occurred()) {
            return -1;
        }
        value = entry != NULL ? FM_TAG_ENTRY(entry) : FM_ABSENT;
    }
    if (fm_in_step(dict, memo)) {
        fm_store(t->w, t->hash, value);
    }
    return 0;
}

static PyObject *
article_features(PyObject *self, PyObject *args)
{
    PyObject *text, *fast, *memo, *make_entry, *num_memo, *make_number;
    if (!PyArg_ParseTuple(args, "UO!O!OO!O:features", &text, &PyDict_Type, &fast, &PyDict_Type, &memo,
                          &make_entry, &PyDict_Type, &num_memo, &make_number)) {
        return NULL;
    }
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyList_New(0);
    PyObject *names = NULL;   /* `_names_in(text)`, made at its first use */
    PyObject *pending = NULL; /* a number (float) that a multiplier may follow */
    PyObject *tok = NULL, *entry = NULL;
    if (out == NULL) {
        return NULL;
    }
    Py_ssize_t i = 0, gap = 0; /* i: where the scan goes on; gap: where the text after the
                                  previous token starts */
    fm_token ahead[FM_RING];   /* the next tokens, scanned and their mirror slots prefetched */
    int head = 0, queued = 0;
    for (;;) {
        queued = fm_scan(kind, data, n, &i, ahead, head, queued);
        if (queued == 0) {
            break;
        }
        const fm_token t = ahead[head];
        head = (head + 1) & (FM_RING - 1);
        queued--;
        const Py_ssize_t start = t.start, end = t.end;
        const Py_ssize_t gap_start = gap;
        gap = end;
        int absent = 0; /* whether the token is known not to be in the fast memo */
        if (t.keyed && fm_sync(fast, memo)) { /* the mirror of the memos */
            const fm_slot *s = fm_find(t.w, t.hash);
            if (s->w[0] != 0) {
                PyObject *v = s->value;
                if (FM_IS_ENTRY(v)) {
                    entry = FM_ENTRY(v);
                    Py_INCREF(entry);
                }
                else if (v == FM_ABSENT) {
                    absent = 1;
                }
                else if (pending == NULL) { /* the fast memo's value: a tuple (fm_store) */
                    if (PyTuple_GET_SIZE(v) != 0 && PyList_Append(out, v) < 0) {
                        goto error;
                    }
                    continue;
                }
            }
        }
        if (entry == NULL) {
            tok = PyUnicode_Substring(text, start, end);
            if (tok == NULL) {
                goto error;
            }
            if (pending == NULL && !absent) { /* a token that always gives the same feature, or none */
                PyObject *feat = PyDict_GetItemWithError(fast, tok);
                if (feat != NULL) {
                    if (!PyTuple_Check(feat)) {
                        PyErr_SetString(PyExc_TypeError, "features: a fast memo value is no tuple");
                        goto error;
                    }
                    if (t.keyed && fm_in_step(fast, memo)) {
                        fm_store(t.w, t.hash, feat);
                    }
                    if (PyTuple_GET_SIZE(feat) != 0 && PyList_Append(out, feat) < 0) {
                        goto error;
                    }
                    Py_CLEAR(tok);
                    continue;
                }
                if (PyErr_Occurred()) {
                    goto error;
                }
            }
            const int in_step = fm_in_step(fast, memo);
            const Py_ssize_t size = PyDict_GET_SIZE(fast), memo_size = PyDict_GET_SIZE(memo);
            entry = token_entry(memo, make_entry, tok);
            if (entry != NULL && in_step &&
                fm_follow(fast, memo, size, memo_size, t.keyed ? &t : NULL, tok) < 0) {
                goto error;
            }
            Py_CLEAR(tok);
            if (entry == NULL) {
                goto error;
            }
        }
        const long k = PyLong_AsLong(PyTuple_GET_ITEM(entry, 0));
        if (k == -1 && PyErr_Occurred()) {
            goto error;
        }
        PyObject *value = PyTuple_GET_ITEM(entry, 1);
        int empty;
        if (pending != NULL) {
            if (k == K_NUM) { /* number after number */
                if (append_number(out, num_memo, make_number, pending) < 0) {
                    goto error;
                }
                Py_INCREF(value);
                Py_SETREF(pending, value);
                Py_CLEAR(entry);
                continue;
            }
            PyObject *mult = PyTuple_GET_ITEM(entry, PyTuple_GET_SIZE(entry) - 1);
            if (mult != Py_None) { /* "1.8 million" */
                PyObject *product = PyNumber_Multiply(pending, mult);
                if (product == NULL) {
                    goto error;
                }
                Py_CLEAR(pending);
                int rc = append_number(out, num_memo, make_number, product);
                Py_DECREF(product);
                if (rc < 0) {
                    goto error;
                }
                Py_CLEAR(entry);
                continue;
            }
            empty = PyList_GET_SIZE(out) == 0; /* before the flush, as the Python twin */
            int rc = append_number(out, num_memo, make_number, pending);
            Py_CLEAR(pending);
            if (rc < 0) {
                goto error;
            }
        }
        else {
            empty = PyList_GET_SIZE(out) == 0;
        }
        switch (k) {
        case K_FEAT:
            if (PyList_Append(out, value) < 0) {
                goto error;
            }
            break;
        case K_CAP: {
            /* a name unless it starts a sentence and is never capitalised inside one */
            if (PyTuple_GET_SIZE(entry) != 5) {
                PyErr_SetString(PyExc_TypeError, "features: a capitalised word's entry is no 5-tuple");
                goto error;
            }
            int name = 1;
            if (empty || gap_ends_sentence(kind, data, gap_start, start)) {
                if (names == NULL && (names = names_in(kind, data, n)) == NULL) {
                    goto error;
                }
                if ((name = PySet_Contains(names, PyTuple_GET_ITEM(entry, 3))) < 0) {
                    goto error;
                }
            }
            if (PyList_Append(out, name ? value : PyTuple_GET_ITEM(entry, 2)) < 0) {
                goto error;
            }
            break;
        }
        case K_SKIP:
            break;
        case K_NUMWORD:
        case K_NUM:
            Py_INCREF(value);
            pending = value;
            break;
        default:
            PyErr_Format(PyExc_ValueError, "features: unknown token entry kind %ld", k);
            goto error;
        }
        Py_CLEAR(entry);
    }
    if (pending != NULL) {
        int rc = append_number(out, num_memo, make_number, pending);
        Py_CLEAR(pending);
        if (rc < 0) {
            goto error;
        }
    }
    Py_XDECREF(names);
    return out;
error:
    Py_XDECREF(tok);
    Py_XDECREF(entry);
    Py_XDECREF(pending);
    Py_XDECREF(names);
    Py_DECREF(out);
    return NULL;
}

/* ---- dedup index kernels (pipeline.dedup._index): per-lookup candidate search and figures ---- */

#define IX_MAX_BINS 65536 /* bins of a bottom-k sketch in index_rows, at most */

/* a buffer of `itemsize`-byte items (get_buffer), with its item count in *count */
static int
ix_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, const char *what, Py_ssize_t *count)
{
    if (get_buffer(obj, view, itemsize, what) < 0) {
        return -1;
    }
    *count = view->len / itemsize;
    return 0;
}

static void
ix_release(Py_buffer *views, int n)
{
    for (int i = 0; i < n; i++) {
        PyBuffer_Release(&views[i]);
    }
}

static int
ix_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int
ix_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static PyObject *
ix_row_list(const uint32_t *rows, Py_ssize_t n)
{
    PyObject *out = PyList_New(n);
    if (out == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyLong_FromUnsignedLong(rows[i]);
        if (v == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, v);
    }
    return out;
}

/* index_near(q, offsets, rows, fp, ts, built, n, masks, max_distance, close_distance, far)
 *     -> list[int]
 *     What `DedupIndex._near_rows_python` returns: the rows of the 4 block tables (CSR: int32
 *     `offsets` of 4 * 65536 + 1 entries over uint32 `rows`) in the buckets
 *     ((q >> 16t) & 0xFFFF ^ mask) | t << 16 for every int64 `mask` (< 65536) and t = 0..3,
 *     and the delta rows [built, n), with their uint64 fingerprint `fp` within `max_distance`
 *     bits of `q`, sorted by (distance, row) without repeats; of those the live ones (uint32
 *     `ts` > 0) within `close_distance` bits and the first `far` live farther ones. */
static PyObject *
index_near(PyObject *self, PyObject *args)
{
    unsigned long long q;
    PyObject *o_off, *o_rows, *o_fp, *o_ts, *o_masks;
    Py_ssize_t built, n, far, n_off, n_rows, n_fp, n_ts, n_masks;
    int maxd, close_d;
    Py_buffer v[5];
    if (!PyArg_ParseTuple(args, "KOOOOnnOiin:index_near", &q, &o_off, &o_rows, &o_fp, &o_ts,
                          &built, &n, &o_masks, &maxd, &close_d, &far)) {
        return NULL;
    }
    if (ix_buffer(o_off, &v[0], 4, "offsets", &n_off) < 0) {
        return NULL;
    }
    if (ix_buffer(o_rows, &v[1], 4, "rows", &n_rows) < 0) {
        ix_release(v, 1);
        return NULL;
    }
    if (ix_buffer(o_fp, &v[2], 8, "fp", &n_fp) < 0) {
        ix_release(v, 2);
        return NULL;
    }
    if (ix_buffer(o_ts, &v[3], 4, "ts", &n_ts) < 0) {
        ix_release(v, 3);
        return NULL;
    }
    if (ix_buffer(o_masks, &v[4], 8, "masks", &n_masks) < 0) {
        ix_release(v, 4);
        return NULL;
    }
    const int32_t *offsets = (const int32_t *)v[0].buf;
    const uint32_t *rows = (const uint32_t *)v[1].buf;
    const uint64_t *fp = (const uint64_t *)v[2].buf;
    const uint32_t *ts = (const uint32_t *)v[3].buf;
    const int64_t *masks = (const int64_t *)v[4].buf;
    PyObject *result = NULL;
    uint64_t *keys = NULL;
    uint32_t *picked = NULL;
    Py_ssize_t nkeys = 0, cap = 0;
    if (built < 0 || n < built || n > n_fp || n > n_ts || (built && n_off != 4 * 65536 + 1)) {
        PyErr_SetString(PyExc_ValueError, "index_near: inconsistent sizes");
        goto done;
    }
    for (Py_ssize_t m = 0; m < n_masks; m++) {
        if (masks[m] < 0 || masks[m] > 0xFFFF) {
            PyErr_SetString(PyExc_ValueError, "index_near: a mask is not a 16-bit value");
            goto done;
        }
    }
    /* capacity: every probed row plus the delta rows */
    if (built) {
        for (int t = 0; t < 4; t++) {
            unsigned base = (unsigned)((q >> (16 * t)) & 0xFFFF);
            for (Py_ssize_t m = 0; m < n_masks; m++) {
                unsigned key = ((base ^ (unsigned)masks[m]) | ((unsigned)t << 16));
                int32_t s = offsets[key], e = offsets[key + 1];
                if (s < 0 || e < s || e > n_rows) {
                    PyErr_SetString(PyExc_ValueError, "index_near: offsets out of range");
                    goto done;
                }
                cap += e - s;
            }
        }
    }
    cap += n - built;
    keys = PyMem_Malloc((size_t)(cap ? cap : 1) * sizeof(uint64_t));
    if (keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (built) {
        for (int t = 0; t < 4; t++) {
            unsigned base = (unsigned)((q >> (16 * t)) & 0xFFFF);
            for (Py_ssize_t m = 0; m < n_masks; m++) {
                unsigned key = ((base ^ (unsigned)masks[m]) | ((unsigned)t << 16));
                for (int32_t p = offsets[key]; p < offsets[key + 1]; p++) {
                    uint32_t row = rows[p];
                    if ((Py_ssize_t)row >= n) {
                        PyErr_SetString(PyExc_ValueError, "index_near: row out of range");
                        goto done;
                    }
                    int d = __builtin_popcountll(fp[row] ^ q);
                    if (d <= maxd) {
                        keys[nkeys++] = ((uint64_t)d << 32) | row;
                    }
                }
            }
        }
    }
    for (Py_ssize_t row = built; row < n; row++) {
        int d = __builtin_popcountll(fp[row] ^ q);
        if (d <= maxd) {
            keys[nkeys++] = ((uint64_t)d << 32) | (uint64_t)row;
        }
    }
    qsort(keys, (size_t)nkeys, sizeof(uint64_t), ix_cmp_u64);
    picked = PyMem_Malloc((size_t)(nkeys ? nkeys : 1) * sizeof(uint32_t));
    if (picked == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t npicked = 0, nfar = 0;
    const uint64_t close_key = (uint64_t)(close_d + 1) << 32;
    for (Py_ssize_t i = 0; i < nkeys; i++) {
        if (i && keys[i] == keys[i - 1]) {
            continue;
        }
        uint32_t row = (uint32_t)(keys[i] & 0xFFFFFFFFULL);
        if (keys[i] < close_key) {
            if (ts[row] > 0) {
                picked[npicked++] = row;
            }
        }
        else if (nfar == far) {
            break;
        }
        else if (ts[row] > 0) {
            picked[npicked++] = row;
            nfar++;
        }
    }
    result = ix_row_list(picked, npicked);
done:
    PyMem_Free(keys);
    PyMem_Free(picked);
    ix_release(v, 5);
    return result;
}

/* the key-table buffers: hi (uint16), offsets (int32, 65537), rows (uint32), delta (uint32), ts */
typedef struct {
    Py_buffer v[5];
    const uint16_t *hi;
    const int32_t *offsets;
    const uint32_t *rows;
    const uint32_t *delta;
    const uint32_t *ts;
    Py_ssize_t n_rows, n_delta, n_ts, built;
} ix_table;

static int
ix_table_open(ix_table *t, PyObject *hi, PyObject *offsets, PyObject *rows, PyObject *delta,
              Py_ssize_t n_delta, Py_ssize_t built, PyObject *ts)
{
    Py_ssize_t n_hi, n_off, n_dbuf;
    if (ix_buffer(hi, &t->v[0], 2, "hi", &n_hi) < 0) {
        return -1;
    }
    if (ix_buffer(offsets, &t->v[1], 4, "offsets", &n_off) < 0) {
        ix_release(t->v, 1);
        return -1;
    }
    if (ix_buffer(rows, &t->v[2], 4, "rows", &t->n_rows) < 0) {
        ix_release(t->v, 2);
        return -1;
    }
    if (ix_buffer(delta, &t->v[3], 4, "delta", &n_dbuf) < 0) {
        ix_release(t->v, 3);
        return -1;
    }
    if (ix_buffer(ts, &t->v[4], 4, "ts", &t->n_ts) < 0) {
        ix_release(t->v, 4);
        return -1;
    }
    t->hi = (const uint16_t *)t->v[0].buf;
    t->offsets = (const int32_t *)t->v[1].buf;
    t->rows = (const uint32_t *)t->v[2].buf;
    t->delta = (const uint32_t *)t->v[3].buf;
    t->ts = (const uint32_t *)t->v[4].buf;
    t->n_delta = n_delta;
    t->built = built;
    /* built > n_ts - n_delta, not built + n_delta > n_ts: that sum may overflow */
    if (n_off != 65537 || n_hi != t->n_rows || n_delta < 0 || n_delta > n_dbuf || built < 0
        || built > t->n_ts - n_delta || t->offsets[0] < 0 || t->offsets[65536] > t->n_rows) {
        PyErr_SetString(PyExc_ValueError, "key table: inconsistent sizes");
        ix_release(t->v, 5);
        return -1;
    }
    return 0;
}

/* index_key_rows(hi, offsets, rows, delta, n_delta, built, key32, ts, fp, q, max_distance,
 *                screen_above, cap) -> list[int] | None
 *     The live rows (uint32 `ts` > 0) of one `_KeyTable` whose key is `key32`, in the order of
 *     `DedupIndex._live(table.rows_for(key32, built))`; None when there are more than `cap`
 *     (the caller takes the newest in Python); when there are more than `screen_above`, only
 *     those with their uint64 fingerprint `fp` within `max_distance` bits of `q`. */
static PyObject *
index_key_rows(PyObject *self, PyObject *args)
{
    PyObject *o_hi, *o_off, *o_rows, *o_delta, *o_ts, *o_fp;
    Py_ssize_t n_delta, built, screen_above, cap, n_fp;
    unsigned long key32;
    unsigned long long q;
    int maxd;
    ix_table t;
    Py_buffer vfp;
    if (!PyArg_ParseTuple(args, "OOOOnnkOOKinn:index_key_rows", &o_hi, &o_off, &o_rows, &o_delta,
                          &n_delta, &built, &key32, &o_ts, &o_fp, &q, &maxd, &screen_above, &cap)) {
        return NULL;
    }
    if (ix_table_open(&t, o_hi, o_off, o_rows, o_delta, n_delta, built, o_ts) < 0) {
        return NULL;
    }
    if (ix_buffer(o_fp, &vfp, 8, "fp", &n_fp) < 0) {
        ix_release(t.v, 5);
        return NULL;
    }
    PyObject *result = NULL;
    uint32_t *found = NULL;
    const uint64_t *fp = (const uint64_t *)vfp.buf;
    if (n_fp < t.n_ts) {
        PyErr_SetString(PyExc_ValueError, "index_key_rows: fp shorter than ts");
        goto done;
    }
    unsigned b = (unsigned)(key32 & 0xFFFF);
    uint16_t want = (uint16_t)((key32 >> 16) & 0xFFFF);
    int32_t s = t.offsets[b], e = t.offsets[b + 1];
    if (s < 0 || e < s || e > t.n_rows) {
        PyErr_SetString(PyExc_ValueError, "index_key_rows: offsets out of range");
        goto done;
    }
    found = PyMem_Malloc((size_t)((e - s) + n_delta + 1) * sizeof(uint32_t));
    if (found == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t nf = 0;
    for (int32_t p = s; p < e; p++) {
        if (t.hi[p] == want) {
            if ((Py_ssize_t)t.rows[p] >= t.n_ts) {
                PyErr_SetString(PyExc_ValueError, "index_key_rows: row out of range");
                goto done;
            }
            if (t.ts[t.rows[p]] > 0) {
                found[nf++] = t.rows[p];
            }
        }
    }
    for (Py_ssize_t i = 0; i < n_delta; i++) {
        if (t.delta[i] == (uint32_t)key32 && t.ts[built + i] > 0) {
            found[nf++] = (uint32_t)(built + i);
        }
    }
    if (nf > cap) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    if (nf > screen_above) {
        Py_ssize_t m = 0;
        for (Py_ssize_t i = 0; i < nf; i++) {
            if (__builtin_popcountll(fp[found[i]] ^ q) <= maxd) {
                found[m++] = found[i];
            }
        }
        nf = m;
    }
    result = ix_row_list(found, nf);
done:
    PyMem_Free(found);
    PyBuffer_Release(&vfp);
    ix_release(t.v, 5);
    return result;
}

/* index_any_rows(hi, offsets, rows, delta, n_delta, built, keys, ts) -> list[int]
 *     The live rows (uint32 `ts` > 0) of one `_KeyTable` whose key is one of the nonzero uint32
 *     `keys`, ascending without repeats: what `DedupIndex._live(np.unique(table.rows_for_any(
 *     keys[keys != 0], built)))` holds. */
static PyObject *
index_any_rows(PyObject *self, PyObject *args)
{
    PyObject *o_hi, *o_off, *o_rows, *o_delta, *o_ts, *o_keys;
    Py_ssize_t n_delta, built, n_keys;
    ix_table t;
    Py_buffer vk;
    if (!PyArg_ParseTuple(args, "OOOOnnOO:index_any_rows", &o_hi, &o_off, &o_rows, &o_delta,
                          &n_delta, &built, &o_keys, &o_ts)) {
        return NULL;
    }
    if (ix_table_open(&t, o_hi, o_off, o_rows, o_delta, n_delta, built, o_ts) < 0) {
        return NULL;
    }
    if (ix_buffer(o_keys, &vk, 4, "keys", &n_keys) < 0) {
        ix_release(t.v, 5);
        return NULL;
    }
    PyObject *result = NULL;
    uint32_t *keys = NULL, *found = NULL;
    const uint32_t *kin = (const uint32_t *)vk.buf;
    Py_ssize_t nk = 0, total = 0, nf = 0;
    keys = PyMem_Malloc((size_t)(n_keys + 1) * sizeof(uint32_t));
    if (keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_keys; i++) {
        if (kin[i]) {
            keys[nk++] = kin[i];
        }
    }
    qsort(keys, (size_t)nk, sizeof(uint32_t), ix_cmp_u32);
    for (Py_ssize_t i = 0; i < nk; i++) {
        unsigned b = keys[i] & 0xFFFF;
        int32_t s = t.offsets[b], e = t.offsets[b + 1];
        if (s < 0 || e < s || e > t.n_rows) {
            PyErr_SetString(PyExc_ValueError, "index_any_rows: offsets out of range");
            goto done;
        }
        total += e - s;
    }
    found = PyMem_Malloc((size_t)(total + n_delta + 1) * sizeof(uint32_t));
    if (found == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nk; i++) {
        if (i && keys[i] == keys[i - 1]) {
            continue;
        }
        unsigned b = keys[i] & 0xFFFF;
        uint16_t want = (uint16_t)(keys[i] >> 16);
        for (int32_t p = t.offsets[b]; p < t.offsets[b + 1]; p++) {
            if (t.hi[p] == want) {
                if ((Py_ssize_t)t.rows[p] >= t.n_ts) {
                    PyErr_SetString(PyExc_ValueError, "index_any_rows: row out of range");
                    goto done;
                }
                if (t.ts[t.rows[p]] > 0) {
                    found[nf++] = t.rows[p];
                }
            }
        }
    }
    uint64_t filter[64]; /* a bit per key's low 12 bits: most delta keys fail it at once */
    memset(filter, 0, sizeof(filter));
    for (Py_ssize_t i = 0; i < nk; i++) {
        filter[(keys[i] >> 6) & 63] |= 1ULL << (keys[i] & 63);
    }
    for (Py_ssize_t i = 0; i < n_delta && nk; i++) {
        uint32_t d = t.delta[i];
        if (!((filter[(d >> 6) & 63] >> (d & 63)) & 1)) {
            continue;
        }
        Py_ssize_t lo = 0, hi = nk; /* binary search of d in the sorted keys */
        while (lo < hi) {
            Py_ssize_t mid = lo + (hi - lo) / 2;
            if (keys[mid] < d) {
                lo = mid + 1;
            }
            else {
                hi = mid;
            }
        }
        if (lo < nk && keys[lo] == d && t.ts[built + i] > 0) {
            found[nf++] = (uint32_t)(built + i);
        }
    }
    qsort(found, (size_t)nf, sizeof(uint32_t), ix_cmp_u32);
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < nf; i++) {
        if (!m || found[i] != found[m - 1]) {
            found[m++] = found[i];
        }
    }
    result = ix_row_list(found, m);
done:
    PyMem_Free(keys);
    PyMem_Free(found);
    PyBuffer_Release(&vk);
    ix_release(t.v, 5);
    return result;
}

/* sketch_similarity of one query sketch `a` (k bins) and bins [col, col + k) of a row */
static double
ix_sim(const uint16_t *a, Py_ssize_t k, const uint16_t *b)
{
    unsigned eq = 0, either = 0;
    Py_ssize_t j = 0;
#if defined(__SSE2__)
    { /* 8 bins at a time (a 16-bit lane counts at most k / 8 <= IX_MAX_BINS / 8) */
        const __m128i zero = _mm_setzero_si128();
        __m128i neq = zero, nnone = zero; /* minus the counts: equal and filled; both empty */
        for (; j + 8 <= k; j += 8) {
            __m128i x = _mm_loadu_si128((const __m128i *)(a + j));
            __m128i y = _mm_loadu_si128((const __m128i *)(b + j));
            __m128i same = _mm_andnot_si128(_mm_cmpeq_epi16(x, zero), _mm_cmpeq_epi16(x, y));
            neq = _mm_add_epi16(neq, same);
            nnone = _mm_add_epi16(nnone, _mm_cmpeq_epi16(_mm_or_si128(x, y), zero));
        }
        uint16_t le[8], ln[8];
        _mm_storeu_si128((__m128i *)le, neq);
        _mm_storeu_si128((__m128i *)ln, nnone);
        unsigned none = 0;
        for (int l = 0; l < 8; l++) {
            eq += (uint16_t)-le[l];
            none += (uint16_t)-ln[l];
        }
        either = (unsigned)j - none;
    }
#endif
    for (; j < k; j++) {
        eq += (a[j] != 0) & (a[j] == b[j]);
        either += (a[j] | b[j]) != 0;
    }
    return (double)eq / (double)(either > 0 ? either : 1);
}

typedef struct {
    double jaccard, contained;
    Py_ssize_t support;
} ix_overlap;

/* 65536 flags: bit 0, a value of the query's pair sketch; bit 1, of its name sketch. Set and
 * cleared within one call of index_rows, which calls no Python code meanwhile (the GIL is held
 * throughout, so no other call can see it set). */
static uint8_t ix_member[65536];

/* (Jaccard, containment, support) of the bottom-k query `va` (its nva nonzero values, ascending;
 * k bins; set size na; bit `bit` of ix_member set for its values) and the row sketch b (nbins
 * bins, set size nb), as `_kmv_rows` computes them */
static ix_overlap
ix_kmv(const uint16_t *va, Py_ssize_t nva, Py_ssize_t k, long long na, int bit, const uint16_t *b,
       Py_ssize_t nbins, long long nb)
{
    ix_overlap out = {0.0, 0.0, 0};
    if (!nva) {
        return out;
    }
    /* the row's values compared: filled and <= limit = min(its maximum if it is full, else
     * 65535; a_limit), which is the same as filled and <= a_limit (when the row's maximum is
     * the smaller, every value of the row is below both) */
    const unsigned a_limit = nva >= k ? va[nva - 1] : 0xFFFF;
    const uint16_t below = (uint16_t)a_limit; /* x - 1 < below: filled (0 wraps), <= a_limit */
    unsigned filled = 0, cb = 0, it = 0;
    uint16_t top = 0;
    Py_ssize_t j = 0;
#if defined(__SSE2__)
    { /* 8 bins at a time (a 16-bit lane counts at most nbins / 8 <= IX_MAX_BINS / 8) */
        const __m128i sign = _mm_set1_epi16((short)0x8000), one = _mm_set1_epi16(1);
        const __m128i zero = _mm_setzero_si128();
        const __m128i below_s = _mm_xor_si128(_mm_set1_epi16((short)below), sign);
        __m128i empty = zero, in = zero, hi = sign; /* hi: the maximum - 32768 (signed) */
        for (; j + 8 <= nbins; j += 8) {
            __m128i x = _mm_loadu_si128((const __m128i *)(b + j));
            empty = _mm_sub_epi16(empty, _mm_cmpeq_epi16(x, zero));
            hi = _mm_max_epi16(hi, _mm_xor_si128(x, sign));
            __m128i y = _mm_xor_si128(_mm_sub_epi16(x, one), sign);
            in = _mm_sub_epi16(in, _mm_cmplt_epi16(y, below_s));
        }
        uint16_t le[8], lin[8], lhi[8];
        _mm_storeu_si128((__m128i *)le, empty);
        _mm_storeu_si128((__m128i *)lin, in);
        _mm_storeu_si128((__m128i *)lhi, _mm_xor_si128(hi, sign));
        unsigned zeros = 0;
        for (int l = 0; l < 8; l++) {
            zeros += le[l];
            cb += lin[l];
            top = lhi[l] > top ? lhi[l] : top;
        }
        filled = (unsigned)j - zeros;
    }
#endif
    for (; j < nbins; j++) { /* the counts and maximum */
        uint16_t x = b[j];
        filled += x != 0;
        top = x > top ? x : top;
        cb += (uint16_t)(x - 1) < below;
    }
    if (!filled) {
        return out;
    }
    for (j = 0; j < nbins; j++) { /* the shared values */
        uint16_t x = b[j];
        it += ((uint16_t)(x - 1) < below) & (ix_member[x] >> bit);
    }
    unsigned limit = filled >= k ? top : 0xFFFF;
    limit = limit < a_limit ? limit : a_limit;
    Py_ssize_t lo = 0, hi = nva; /* how many of va are <= limit (searchsorted, side="right") */
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (va[mid] <= limit) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    Py_ssize_t ca = lo;
    Py_ssize_t support = na <= nb ? ca : (Py_ssize_t)cb;
    Py_ssize_t uni = ca + (Py_ssize_t)cb - (Py_ssize_t)it;
    out.jaccard = (double)it / (double)(uni > 0 ? uni : 1);
    out.contained = support > 0 ? (double)it / (double)support : 0.0;
    out.support = support;
    return out;
}

/* the nonzero values of a query bottom-k sketch, flagged with `flag` in ix_member (set = 1) or
 * unflagged (set = 0); returns the count */
static Py_ssize_t
ix_query(const uint16_t *a, Py_ssize_t k, uint16_t *va, uint8_t flag, int set)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t j = 0; j < k; j++) {
        if (a[j]) {
            va[n++] = a[j];
            ix_member[a[j]] = set ? (uint8_t)(ix_member[a[j]] | flag) : (uint8_t)(ix_member[a[j]] & ~flag);
        }
    }
    return n;
}

/* the tuple (a, b, c) of two floats and an int */
static PyObject *
ix_triple(double a, double b, Py_ssize_t c)
{
    PyObject *out = PyTuple_New(3);
    if (out == NULL) {
        return NULL;
    }
    PyObject *x = PyFloat_FromDouble(a), *y = PyFloat_FromDouble(b), *z = PyLong_FromSsize_t(c);
    if (x == NULL || y == NULL || z == NULL) {
        Py_XDECREF(x);
        Py_XDECREF(y);
        Py_XDECREF(z);
        Py_DECREF(out);
        return NULL;
    }
    PyTuple_SET_ITEM(out, 0, x);
    PyTuple_SET_ITEM(out, 1, y);
    PyTuple_SET_ITEM(out, 2, z);
    return out;
}

/* the figures of one row */
typedef struct {
    double s, ws;
    ix_overlap pairs, names;
    int dist;
    unsigned pcount;
} ix_figures;

/* index_rows(w, width, fp, kept, q, sketch_col, words_col, sketch, words, pairs_col, pairs_bins,
 *            pairs, pairs_count, names_col, names_bins, names, names_count)
 *     -> (dists, sims, pairs, names, pair_counts)
 *     The per-row figures of `DedupIndex._verify` for the rows of `w` (uint16, `width` per row:
 *     each candidate's signature with the byte before it): the fingerprint distance to `q` of
 *     fp[kept[i]] (uint64 `fp`, list `kept`), what `_sketch_sims(sketch, words, w)` gives
 *     ((pairs, words) sketch similarity; the sketches at columns `sketch_col`, `words_col`),
 *     what `_kmv_rows(member, pairs, pairs_count, w, pairs_col, pairs_bins)` and the same for
 *     names give ((Jaccard, containment, support); bottom-k query sketches, nonzero values
 *     ascending; a row's set size is the column before its sketch), and those pair set sizes.
 *     The same floats: the same integer counts, divided in double. */
static PyObject *
index_rows(PyObject *self, PyObject *args)
{
    PyObject *o_w, *o_fp, *kept, *o_sk, *o_words, *o_pairs, *o_names;
    Py_ssize_t width, sketch_col, words_col, pairs_col, pairs_bins, names_col, names_bins;
    unsigned long long q;
    long long pairs_count, names_count;
    Py_buffer v[6];
    Py_ssize_t n_w, n_fp, k_sk, k_words, k_pairs, k_names;
    if (!PyArg_ParseTuple(args, "OnOO!KnnOOnnOLnnOL:index_rows", &o_w, &width, &o_fp,
                          &PyList_Type, &kept, &q, &sketch_col, &words_col, &o_sk, &o_words,
                          &pairs_col, &pairs_bins, &o_pairs, &pairs_count, &names_col,
                          &names_bins, &o_names, &names_count)) {
        return NULL;
    }
    PyObject *o[6] = {o_w, o_fp, o_sk, o_words, o_pairs, o_names};
    Py_ssize_t sizes[6] = {2, 8, 2, 2, 2, 2};
    Py_ssize_t *counts[6] = {&n_w, &n_fp, &k_sk, &k_words, &k_pairs, &k_names};
    const char *what[6] = {"w", "fp", "sketch", "words", "pairs", "names"};
    for (int i = 0; i < 6; i++) {
        if (ix_buffer(o[i], &v[i], sizes[i], what[i], counts[i]) < 0) {
            ix_release(v, i);
            return NULL;
        }
    }
    const uint16_t *w = (const uint16_t *)v[0].buf;
    const uint64_t *fp = (const uint64_t *)v[1].buf;
    const uint16_t *qs = (const uint16_t *)v[2].buf, *qw = (const uint16_t *)v[3].buf;
    const uint16_t *qp = (const uint16_t *)v[4].buf, *qn = (const uint16_t *)v[5].buf;
    PyObject *dists = NULL, *sims = NULL, *pairs = NULL, *names = NULL, *pcounts = NULL;
    PyObject *result = NULL;
    uint16_t *vp = NULL, *vn = NULL;
    ix_figures *fig = NULL;
    Py_ssize_t n = PyList_GET_SIZE(kept);
    if (width <= 0 || n_w != n * width || sketch_col < 0 || sketch_col + k_sk > width
        || words_col < 0 || words_col + k_words > width || pairs_col < 1 || pairs_bins < 0
        || pairs_col + pairs_bins > width || names_col < 1 || names_bins < 0
        || names_col + names_bins > width || width > IX_MAX_BINS) {
        PyErr_SetString(PyExc_ValueError, "index_rows: sketch columns outside the rows");
        goto done;
    }
    vp = PyMem_Malloc((size_t)(k_pairs + 1) * sizeof(uint16_t));
    vn = PyMem_Malloc((size_t)(k_names + 1) * sizeof(uint16_t));
    fig = PyMem_Malloc((size_t)(n + 1) * sizeof(ix_figures));
    if (vp == NULL || vn == NULL || fig == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t row = PyLong_AsSsize_t(PyList_GET_ITEM(kept, i));
        if (row == -1 && PyErr_Occurred()) {
            goto done;
        }
        if (row < 0 || row >= n_fp) {
            PyErr_SetString(PyExc_ValueError, "index_rows: row out of range");
            goto done;
        }
        fig[i].dist = __builtin_popcountll(fp[row] ^ q);
    }
    /* the numbers (no Python call while ix_member is set) */
    Py_ssize_t np_ = ix_query(qp, k_pairs, vp, 1, 1);
    Py_ssize_t nn = ix_query(qn, k_names, vn, 2, 1);
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint16_t *r = w + i * width;
        fig[i].s = ix_sim(qs, k_sk, r + sketch_col);
        fig[i].ws = ix_sim(qw, k_words, r + words_col);
        fig[i].pairs = ix_kmv(vp, np_, k_pairs, pairs_count, 0, r + pairs_col, pairs_bins, r[pairs_col - 1]);
        fig[i].names = ix_kmv(vn, nn, k_names, names_count, 1, r + names_col, names_bins, r[names_col - 1]);
        fig[i].pcount = r[pairs_col - 1];
    }
    ix_query(qp, k_pairs, vp, 1, 0);
    ix_query(qn, k_names, vn, 2, 0);
    /* the objects */
    dists = PyList_New(n);
    sims = PyList_New(n);
    pairs = PyList_New(n);
    names = PyList_New(n);
    pcounts = PyList_New(n);
    if (dists == NULL || sims == NULL || pairs == NULL || names == NULL || pcounts == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *x = PyLong_FromLong(fig[i].dist);
        if (x == NULL) {
            goto done;
        }
        PyList_SET_ITEM(dists, i, x);
        PyObject *s = PyFloat_FromDouble(fig[i].s);
        PyObject *ws = s == NULL ? NULL : PyFloat_FromDouble(fig[i].ws);
        if (ws == NULL) {
            Py_XDECREF(s);
            goto done;
        }
        x = PyTuple_Pack(2, s, ws);
        Py_DECREF(s);
        Py_DECREF(ws);
        if (x == NULL) {
            goto done;
        }
        PyList_SET_ITEM(sims, i, x);
        x = ix_triple(fig[i].pairs.jaccard, fig[i].pairs.contained, fig[i].pairs.support);
        if (x == NULL) {
            goto done;
        }
        PyList_SET_ITEM(pairs, i, x);
        x = ix_triple(fig[i].names.jaccard, fig[i].names.contained, fig[i].names.support);
        if (x == NULL) {
            goto done;
        }
        PyList_SET_ITEM(names, i, x);
        x = PyLong_FromUnsignedLong(fig[i].pcount);
        if (x == NULL) {
            goto done;
        }
        PyList_SET_ITEM(pcounts, i, x);
    }
    result = PyTuple_Pack(5, dists, sims, pairs, names, pcounts);
done:
    Py_XDECREF(dists);
    Py_XDECREF(sims);
    Py_XDECREF(pairs);
    Py_XDECREF(names);
    Py_XDECREF(pcounts);
    PyMem_Free(vp);
    PyMem_Free(vn);
    PyMem_Free(fig);
    ix_release(v, 6);
    return result;
}

/* index_common_order(a, na, b, nb) -> int | None
 *     What `pipeline.dedup._index.common_order` returns: the length of the longest common
 *     subsequence of the first `na` and `nb` little-endian 16-bit items of the bytes-like `a`
 *     and `b` (bit-parallel, one 64-bit word for the items of `a`); None when na > 64. */
static PyObject *
index_common_order(PyObject *self, PyObject *args)
{
    Py_buffer a, b;
    Py_ssize_t na, nb;
    if (!PyArg_ParseTuple(args, "y*ny*n:index_common_order", &a, &na, &b, &nb)) {
        return NULL;
    }
    PyObject *result = NULL;
    if (na < 0 || nb < 0 || na > a.len / 2 || nb > b.len / 2) { /* no 2 * n: it may overflow */
        PyErr_SetString(PyExc_ValueError, "index_common_order: counts beyond the buffers");
        goto done;
    }
    if (na > 64) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    if (!na || !nb) {
        result = PyLong_FromLong(0);
        goto done;
    }
    /* the positions of each item of a (a bit each), in an open-addressing table of 128 slots */
    uint16_t key[128];
    uint64_t mask[128];
    uint8_t used[128];
    memset(used, 0, sizeof(used));
    const uint8_t *pa = (const uint8_t *)a.buf, *pb = (const uint8_t *)b.buf;
    for (Py_ssize_t i = 0; i < na; i++) {
        uint16_t x = (uint16_t)(pa[2 * i] | (pa[2 * i + 1] << 8));
        unsigned slot = (x * 0x9E37u >> 7) & 127;
        while (used[slot] && key[slot] != x) {
            slot = (slot + 1) & 127;
        }
        if (!used[slot]) {
            used[slot] = 1;
            key[slot] = x;
            mask[slot] = 0;
        }
        mask[slot] |= 1ULL << i;
    }
    const uint64_t full = na == 64 ? ~0ULL : (1ULL << na) - 1;
    uint64_t v = full;
    for (Py_ssize_t j = 0; j < nb; j++) {
        uint16_t y = (uint16_t)(pb[2 * j] | (pb[2 * j + 1] << 8));
        unsigned slot = (y * 0x9E37u >> 7) & 127;
        while (used[slot] && key[slot] != y) {
            slot = (slot + 1) & 127;
        }
        if (used[slot]) {
            uint64_t u = v & mask[slot];
            if (u) {
                v = ((v + u) | (v - u)) & full; /* the carry out of bit 63 is masked off too */
            }
        }
    }
    result = PyLong_FromLong((long)(na - __builtin_popcountll(v)));
done:
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    return result;
}

/* ---- end of the dedup index kernels ---- */

/* ------------------------------------------------------------------------- stopword votes */

/* A character of a letter run: what the regex class [^\W\d_] matches in Python's re (\w is
 * Py_UNICODE_ISALNUM or "_", \d is Py_UNICODE_ISDECIMAL); for ASCII that is A-Z and a-z. */
static inline int
votes_run_char(Py_UCS4 c)
{
    if (c < 128) {
        return (Py_UCS4)((c | 0x20) - 'a') < 26;
    }
    return Py_UNICODE_ISALNUM(c) && !Py_UNICODE_ISDECIMAL(c);
}

/* stopword_votes(text, owners, min_len=1, max_len=sys.maxsize) -> dict
 *     Counter(owners[w] for w in re.findall(r"[^\W\d_]+", text) if w in owners) as a plain dict
 *     in the Counter's key order (first appearance; codes told apart as a dict does). Runs
 *     shorter than min_len or longer than max_len are not looked up (the caller passes the
 *     bounds of the keys of `owners`, an exact dict). */
static PyObject *
stopword_votes(PyObject *self, PyObject *args)
{
    PyObject *text, *owners;
    Py_ssize_t min_len = 1, max_len = PY_SSIZE_T_MAX;
    if (!PyArg_ParseTuple(args, "UO|nn:stopword_votes", &text, &owners, &min_len, &max_len)) {
        return NULL;
    }
    if (!PyDict_CheckExact(owners)) { /* (a subclass could answer `in` and [] otherwise) */
        PyErr_SetString(PyExc_TypeError, "stopword_votes: owners must be a dict");
        return NULL;
    }
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *codes = PyList_New(0); /* distinct codes in order of first appearance (own refs) */
    PyObject *where = NULL;          /* code -> its position in `codes`, built on a miss by identity */
    PyObject *result = NULL;
    Py_ssize_t *counts = NULL, cap = 0;
    if (codes == NULL) {
        return NULL;
    }
    Py_ssize_t i = 0;
    while (i < n) {
        if (!votes_run_char(PyUnicode_READ(kind, data, i))) {
            i++;
            continue;
        }
        Py_ssize_t end = i + 1;
        while (end < n && votes_run_char(PyUnicode_READ(kind, data, end))) {
            end++;
        }
        Py_ssize_t start = i;
        i = end;
        if (end - start < min_len || end - start > max_len) {
            continue;
        }
        PyObject *word = PyUnicode_Substring(text, start, end);
        if (word == NULL) {
            goto error;
        }
        PyObject *code = PyDict_GetItemWithError(owners, word); /* borrowed */
        Py_XINCREF(code);
        Py_DECREF(word);
        if (code == NULL) {
            if (PyErr_Occurred()) {
                goto error;
            }
            continue;
        }
        Py_ssize_t ncodes = PyList_GET_SIZE(codes), j;
        for (j = 0; j < ncodes && PyList_GET_ITEM(codes, j) != code; j++) {
        }
        if (j == ncodes && ncodes > 0) { /* not seen as this object: maybe an equal one */
            if (where == NULL) {
                if ((where = PyDict_New()) == NULL) {
                    Py_DECREF(code);
                    goto error;
                }
            }
            for (Py_ssize_t k = PyDict_GET_SIZE(where); k < ncodes; k++) {
                PyObject *pos = PyLong_FromSsize_t(k);
                int rc = pos == NULL ? -1 : PyDict_SetItem(where, PyList_GET_ITEM(codes, k), pos);
                Py_XDECREF(pos);
                if (rc < 0) {
                    Py_DECREF(code);
                    goto error;
                }
            }
            PyObject *pos = PyDict_GetItemWithError(where, code);
            if (pos != NULL) {
                j = PyLong_AsSsize_t(pos);
            }
            else if (PyErr_Occurred()) {
                Py_DECREF(code);
                goto error;
            }
            ncodes = PyList_GET_SIZE(codes); /* (unchanged: only this function appends to it) */
        }
        else if (j == ncodes && PyObject_Hash(code) == -1) { /* the first code: hashable? */
            Py_DECREF(code);
            goto error;
        }
        if (j == ncodes) {
            if (ncodes == cap) {
                Py_ssize_t *grown = PyMem_Realloc(counts, sizeof(Py_ssize_t) * (size_t)(cap ? 2 * cap : 8));
                if (grown == NULL) {
                    Py_DECREF(code);
                    PyErr_NoMemory();
                    goto error;
                }
                counts = grown;
                cap = cap ? 2 * cap : 8;
            }
            int rc = PyList_Append(codes, code);
            Py_DECREF(code);
            if (rc < 0) {
                goto error;
            }
            counts[j] = 1;
        }
        else {
            Py_DECREF(code);
            counts[j]++;
        }
    }
    if ((result = PyDict_New()) == NULL) {
        goto error;
    }
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(codes); j++) {
        PyObject *count = PyLong_FromSsize_t(counts[j]);
        int rc = count == NULL ? -1 : PyDict_SetItem(result, PyList_GET_ITEM(codes, j), count);
        Py_XDECREF(count);
        if (rc < 0) {
            goto error;
        }
    }
    Py_DECREF(codes);
    Py_XDECREF(where);
    PyMem_Free(counts);
    return result;
error:
    Py_XDECREF(result);
    Py_DECREF(codes);
    Py_XDECREF(where);
    PyMem_Free(counts);
    return NULL;
}

/* ---- word starts with a given prefix (the date scan) ------------------------------------- */

/* Python's \w for str patterns: alphanumeric (its own Unicode tables) or "_". */
static inline int
re_word_char(Py_UCS4 ch)
{
    return ch == '_' || kw_alnum(ch);
}

#define WORD_STARTS_MAX_PREFIXES 256

static PyObject *
prefixed_word_starts(PyObject *self, PyObject *args)
{
    PyObject *text, *prefixes;
    if (!PyArg_ParseTuple(args, "UO!:prefixed_word_starts", &text, &PyTuple_Type, &prefixes)) {
        return NULL;
    }
    const Py_ssize_t np = PyTuple_GET_SIZE(prefixes);
    if (np > WORD_STARTS_MAX_PREFIXES) {
        PyErr_SetString(PyExc_ValueError, "prefixed_word_starts: too many prefixes");
        return NULL;
    }
    /* The prefixes by their first character (ASCII only): first[c] .. first[c + 1] in `order`. */
    const char *pre[WORD_STARTS_MAX_PREFIXES];
    Py_ssize_t len[WORD_STARTS_MAX_PREFIXES];
    unsigned short order[WORD_STARTS_MAX_PREFIXES];
    unsigned short first[129];
    unsigned short count[128] = {0};
    for (Py_ssize_t k = 0; k < np; k++) {
        PyObject *item = PyTuple_GET_ITEM(prefixes, k);
        if (!PyUnicode_Check(item) || !PyUnicode_IS_ASCII(item) || PyUnicode_GET_LENGTH(item) == 0) {
            PyErr_SetString(PyExc_ValueError, "prefixed_word_starts: prefixes must be non-empty ASCII str");
            return NULL;
        }
        pre[k] = (const char *)PyUnicode_DATA(item);
        len[k] = PyUnicode_GET_LENGTH(item);
        count[(unsigned char)pre[k][0]]++;
    }
    first[0] = 0;
    for (int c = 0; c < 128; c++) {
        first[c + 1] = (unsigned short)(first[c] + count[c]);
    }
    unsigned short fill[128];
    memcpy(fill, first, sizeof(fill));
    for (Py_ssize_t k = 0; k < np; k++) {
        order[fill[(unsigned char)pre[k][0]]++] = (unsigned short)k;
    }
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    /* ASCII: 1 where a prefix starts with it (2), or a word character (1) */
    unsigned char ascii[128];
    for (int c = 0; c < 128; c++) {
        ascii[c] = (unsigned char)(re_word_char((Py_UCS4)c) | (count[c] ? 2 : 0));
    }
    int prev_word = 0;
    Py_ssize_t i = 0;
    while (i < n) {
        /* the characters after a word character or not starting a prefix, in a tight loop per
         * string kind */
#define WORD_STARTS_SKIP(T)                                                                       \
    do {                                                                                          \
        const T *d = (const T *)data;                                                             \
        for (; i < n; i++) {                                                                      \
            const Py_UCS4 c = d[i];                                                               \
            if (c < 128) {                                                                        \
                if ((ascii[c] & 2) && !prev_word) {                                               \
                    break;                                                                        \
                }                                                                                 \
                prev_word = ascii[c] & 1;                                                         \
            }                                                                                     \
            else {                                                                                \
                prev_word = Py_UNICODE_ISALNUM(c);                                                \
            }                                                                                     \
        }                                                                                         \
    } while (0)
        if (kind == PyUnicode_1BYTE_KIND) {
            WORD_STARTS_SKIP(Py_UCS1);
        }
        else if (kind == PyUnicode_2BYTE_KIND) {
            WORD_STARTS_SKIP(Py_UCS2);
        }
        else {
            WORD_STARTS_SKIP(Py_UCS4);
        }
#undef WORD_STARTS_SKIP
        if (i >= n) {
            break;
        }
        const Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        for (unsigned short j = first[ch]; j < first[ch + 1]; j++) {
            const Py_ssize_t k = order[j], m = len[k];
            if (i + m > n) {
                continue;
            }
            Py_ssize_t t = 1;
            while (t < m && PyUnicode_READ(kind, data, i + t) == (Py_UCS4)(unsigned char)pre[k][t]) {
                t++;
            }
            if (t == m) {
                PyObject *pos = PyLong_FromSsize_t(i);
                int rc = pos == NULL ? -1 : PyList_Append(out, pos);
                Py_XDECREF(pos);
                if (rc < 0) {
                    Py_DECREF(out);
                    return NULL;
                }
                break;
            }
        }
        prev_word = ascii[ch] & 1; /* (a prefix character is ASCII) */
        i++;
    }
    return out;
}

/* ------------------------------------------------------------------------- signature kernels */
/* The rest of `pipeline.dedup._signature.signature_of_text` after the features, without a memo:
 * the key hashes are xxh64 computed here (a lookup in the 200,000-key memo dict missed the CPU
 * caches and cost more than hashing a short key), and the hash of the normalised body. */

#define SIG_ORDER_ITEMS 64 /* pipeline.dedup._fingerprint.ORDER_ITEMS */
#define SIG_ORDER_KEY_MIN 12
#define SIG_LEAD_KEYS 6 /* pipeline.dedup._signature.LEAD_KEYS */
#define SIG_KEY_SEED 0x5EEDULL /* pipeline.dedup._fingerprint._HASH_SEED */

static const uint64_t XP1 = 0x9E3779B185EBCA87ULL;
static const uint64_t XP2 = 0xC2B2AE3D27D4EB4FULL;
static const uint64_t XP3 = 0x165667B19E3779F9ULL;
static const uint64_t XP4 = 0x85EBCA77C2B2AE63ULL;
static const uint64_t XP5 = 0x27D4EB2F165667C5ULL;

static inline uint64_t
sig_rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t
sig_read64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* little-endian hosts, as the rest of this module */
}

static inline uint64_t
sig_round(uint64_t acc, uint64_t input)
{
    acc += input * XP2;
    return sig_rotl(acc, 31) * XP1;
}

static inline uint64_t
sig_merge(uint64_t acc, uint64_t v)
{
    acc ^= sig_round(0, v);
    return acc * XP1 + XP4;
}

/* XXH64 of p[0..len) with `seed`: what xxhash.xxh64_intdigest gives (tests compare the two) */
static uint64_t
sig_xxh64(const uint8_t *p, size_t len, uint64_t seed)
{
    const uint8_t *end = p + len;
    uint64_t h;
    if (len >= 32) {
        uint64_t v1 = seed + XP1 + XP2, v2 = seed + XP2, v3 = seed, v4 = seed - XP1;
        const uint8_t *limit = end - 32;
        do {
            v1 = sig_round(v1, sig_read64(p));
            v2 = sig_round(v2, sig_read64(p + 8));
            v3 = sig_round(v3, sig_read64(p + 16));
            v4 = sig_round(v4, sig_read64(p + 24));
            p += 32;
        } while (p <= limit);
        h = sig_rotl(v1, 1) + sig_rotl(v2, 7) + sig_rotl(v3, 12) + sig_rotl(v4, 18);
        h = sig_merge(h, v1);
        h = sig_merge(h, v2);
        h = sig_merge(h, v3);
        h = sig_merge(h, v4);
    }
    else {
        h = seed + XP5;
    }
    h += (uint64_t)len;
    while (end - p >= 8) {
        h ^= sig_round(0, sig_read64(p));
        h = sig_rotl(h, 27) * XP1 + XP4;
        p += 8;
    }
    if (end - p >= 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        h ^= (uint64_t)v * XP1;
        h = sig_rotl(h, 23) * XP2 + XP3;
        p += 4;
    }
    while (p < end) {
        h ^= (uint64_t)(*p++) * XP5;
        h = sig_rotl(h, 11) * XP1;
    }
    h ^= h >> 33;
    h *= XP2;
    h ^= h >> 29;
    h *= XP3;
    h ^= h >> 32;
    return h;
}

/* The UTF-8 of a str (strict, as str.encode()): its own bytes when it is ASCII. */
static const uint8_t *
sig_utf8(PyObject *s, Py_ssize_t *len)
{
    if (PyUnicode_IS_COMPACT_ASCII(s)) {
        *len = PyUnicode_GET_LENGTH(s);
        return (const uint8_t *)PyUnicode_DATA(s);
    }
    return (const uint8_t *)PyUnicode_AsUTF8AndSize(s, len);
}

static PyObject *
py_xxh64(PyObject *self, PyObject *args)
{
    Py_buffer data;
    unsigned long long seed = 0;
    if (!PyArg_ParseTuple(args, "y*|K:xxh64", &data, &seed)) {
        return NULL;
    }
    uint64_t h = sig_xxh64((const uint8_t *)data.buf, (size_t)data.len, (uint64_t)seed);
    PyBuffer_Release(&data);
    return PyLong_FromUnsignedLongLong(h);
}

/* How many distinct values v[0..n) holds (an open-addressing set in `table`, `cap` slots, a
 * power of two >= 2n; 0 is the empty slot, so the value 0 is counted apart). */
static Py_ssize_t
sig_count_distinct(const uint64_t *v, Py_ssize_t n, uint64_t *table, size_t cap)
{
    memset(table, 0, cap * sizeof(uint64_t));
    const size_t mask = cap - 1;
    int zero = 0;
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint64_t x = v[i];
        if (x == 0) {
            zero = 1;
            continue;
        }
        size_t slot = (size_t)((x * MIX) >> 40) & mask;
        while (table[slot] != 0 && table[slot] != x) {
            slot = (slot + 1) & mask;
        }
        if (table[slot] == 0) {
            table[slot] = x;
            count++;
        }
    }
    return count + zero;
}

/* signature_parts(feats, positions, log1) -> 16-tuple
 * What `pipeline.dedup._fingerprint.fingerprint_parts` returns (12 items) followed by what
 * `pipeline.dedup._fingerprint.name_order(feats)` returns (order bytes, order count, names
 * key) and `pipeline.dedup._signature.lead_key` of the first LEAD_KEYS keys; n >= 3. */
static PyObject *
signature_parts(PyObject *self, PyObject *args)
{
    PyObject *featlist, *feats = NULL, *posobj, *logobj;
    Py_buffer pos, log1;
    PyObject *result = NULL;
    uint64_t *h = NULL, *top_pairs = NULL, *names = NULL, *every = NULL, *uniq = NULL, *table = NULL;
    hw_t *hw = NULL, *hw_tmp = NULL;
    double *weights = NULL;
    uint64_t *bitmap = NULL;
    uint8_t *lead = NULL;

    if (!PyArg_ParseTuple(args, "O!OO:signature_parts", &PyList_Type, &featlist, &posobj, &logobj)) {
        return NULL;
    }
    if (PyList_GET_SIZE(featlist) < 3) {
        PyErr_SetString(PyExc_ValueError, "signature_parts: needs at least 3 features");
        return NULL;
    }
    /* a snapshot that owns every feature (and so every key and weight): __hash__, __eq__ or
     * __float__ of a key or weight may run Python code that changes or empties the list */
    feats = PyList_AsTuple(featlist);
    if (feats == NULL) {
        return NULL;
    }
    const Py_ssize_t n = PyTuple_GET_SIZE(feats);
    if (get_buffer(posobj, &pos, 8, "positions") < 0) {
        Py_DECREF(feats);
        return NULL;
    }
    if (get_buffer(logobj, &log1, 8, "log1") < 0) {
        PyBuffer_Release(&pos);
        Py_DECREF(feats);
        return NULL;
    }
    if (pos.len / 8 < n || log1.len / 8 < n) {
        PyErr_SetString(PyExc_ValueError, "signature_parts: positions and log1 need n entries");
        goto done;
    }
    const double *position = (const double *)pos.buf;
    const double *log_1 = (const double *)log1.buf; /* log_1[c - 1] == 1 + log(c) */
    size_t cap = 16;
    while (cap < 2 * (size_t)n) {
        cap <<= 1;
    }
    h = PyMem_Malloc((size_t)n * sizeof(uint64_t));
    top_pairs = PyMem_Malloc(SKETCH_TOKENS * sizeof(uint64_t));
    names = PyMem_Malloc((size_t)n * sizeof(uint64_t));
    every = PyMem_Malloc((size_t)n * sizeof(uint64_t));
    hw = PyMem_Malloc((size_t)n * sizeof(hw_t));
    uniq = PyMem_Malloc((size_t)n * sizeof(uint64_t));
    weights = PyMem_Malloc((size_t)n * sizeof(double));
    hw_tmp = PyMem_Malloc((size_t)n * sizeof(hw_t));
    table = PyMem_Malloc(cap * sizeof(uint64_t));
    bitmap = PyMem_Malloc(1024 * sizeof(uint64_t));
    if (!h || !top_pairs || !names || !every || !hw || !uniq || !weights || !hw_tmp || !table || !bitmap) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t n_names = 0, n_order = 0, lead_len = 0;
    uint64_t order_h[SIG_ORDER_ITEMS];
    PyObject *last = NULL; /* the last name key put in the order (owned by the snapshot) */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *feat = PyTuple_GET_ITEM(feats, i);
        if (!PyTuple_Check(feat) || PyTuple_GET_SIZE(feat) < 2) {
            PyErr_SetString(PyExc_TypeError, "signature_parts: features must be (key, weight, ...) tuples");
            goto done;
        }
        PyObject *key = PyTuple_GET_ITEM(feat, 0);
        if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) == 0) {
            PyErr_SetString(PyExc_TypeError, "signature_parts: keys must be non-empty strings");
            goto done;
        }
        Py_ssize_t len;
        const uint8_t *bytes = sig_utf8(key, &len);
        if (bytes == NULL) {
            goto done;
        }
        h[i] = sig_xxh64(bytes, (size_t)len, SIG_KEY_SEED);
        if (i < SIG_LEAD_KEYS && n >= SIG_LEAD_KEYS) { /* " ".join(first keys).encode() */
            uint8_t *grown = PyMem_Realloc(lead, (size_t)(lead_len + len + 1));
            if (grown == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            lead = grown;
            if (i > 0) {
                lead[lead_len++] = ' ';
            }
            memcpy(lead + lead_len, bytes, (size_t)len);
            lead_len += len;
        }
        double tw = PyFloat_AsDouble(PyTuple_GET_ITEM(feat, 1));
        if (tw == -1.0 && PyErr_Occurred()) {
            goto done;
        }
        hw[i].h = h[i];
        hw[i].w = tw * position[i];
        Py_UCS4 first = PyUnicode_READ_CHAR(key, 0);
        if (first == '#' || first == '=') {
            names[n_names++] = h[i];
            if (n_order < SIG_ORDER_ITEMS) { /* a key repeating the one before it is left out */
                int same = 0;
                if (last != NULL && order_h[n_order - 1] == h[i]) {
                    same = PyUnicode_Compare(last, key);
                    if (same == -1 && PyErr_Occurred()) {
                        goto done;
                    }
                    same = same == 0;
                }
                if (!same) {
                    order_h[n_order++] = h[i];
                    last = key;
                }
            }
        }
    }
    const Py_ssize_t n_top = n < SKETCH_TOKENS ? n : SKETCH_TOKENS;
    const Py_ssize_t n_pairs = n_top - 1;
    for (Py_ssize_t i = 0; i < n_pairs; i++) {
        top_pairs[i] = chain(h[i], h[i + 1]);
    }
    uint64_t anchor = top_pairs[0];
    for (Py_ssize_t i = 1; i < n_pairs && i < ANCHOR_TOKENS - 1; i++) {
        if (top_pairs[i] < anchor) {
            anchor = top_pairs[i];
        }
    }
    const Py_ssize_t n_every = n - 2;
    for (Py_ssize_t i = 0; i < n_every; i++) {
        every[i] = chain(chain(h[i], h[i + 1]), h[i + 2]);
    }
    /* unique keys, each weighted by its best (type weight x position) x (1 + ln count) */
    radix_hw(hw, hw_tmp, n);
    Py_ssize_t n_uniq = 0;
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t j = i;
        double best = hw[i].w;
        while (j + 1 < n && hw[j + 1].h == hw[i].h) {
            j++;
            if (hw[j].w > best || hw[j].w != hw[j].w) { /* a NaN wins, as in np.maximum */
                best = hw[j].w;
            }
        }
        uniq[n_uniq] = hw[i].h;
        weights[n_uniq] = best * log_1[j - i]; /* count j - i + 1 */
        n_uniq++;
        i = j + 1;
    }
    /* the sketches take repeated values as they are (a minimum, a bitmap, a sorted insert):
     * only the counts need the distinct values */
    const Py_ssize_t d_pairs = sig_count_distinct(top_pairs, n_pairs, table, cap);
    const Py_ssize_t d_words = sig_count_distinct(h, n_top, table, cap);
    const Py_ssize_t d_names = sig_count_distinct(names, n_names, table, cap);
    const Py_ssize_t d_all = sig_count_distinct(every, n_every, table, cap);
    /* the order: 16-bit items, and the names key from the distinct ones */
    uint16_t order[SIG_ORDER_ITEMS];
    memset(order, 0, sizeof(order));
    uint64_t min_high = UINT64_MAX;
    for (Py_ssize_t i = 0; i < n_order; i++) {
        uint16_t item = (uint16_t)(order_h[i] & 0xFFFF);
        order[i] = item ? item : 1;
        if ((order_h[i] >> 32) < min_high) {
            min_high = order_h[i] >> 32;
        }
    }
    uint64_t names_key = 0;
    if (sig_count_distinct(order_h, n_order, table, cap) >= SIG_ORDER_KEY_MIN) {
        names_key = min_high ? min_high : 1;
    }
    uint64_t lead_key = 0;
    if (n >= SIG_LEAD_KEYS) {
        lead_key = sig_xxh64(lead, (size_t)lead_len, 0);
        lead_key = lead_key ? lead_key : 1;
    }

    PyObject *parts[16] = {NULL};
    int ok = 1; /* each part only while the ones before it were made (no call with an error set) */
    ok = ok && (parts[0] = PyByteArray_FromStringAndSize((const char *)uniq, n_uniq * 8)) != NULL;
    ok = ok && (parts[1] = PyByteArray_FromStringAndSize((const char *)weights, n_uniq * 8)) != NULL;
    ok = ok && (parts[2] = sketch_bytes(top_pairs, n_pairs, SKETCH_BINS)) != NULL;
    ok = ok && (parts[3] = PyLong_FromSsize_t(d_pairs)) != NULL;
    ok = ok && (parts[4] = sketch_bytes(h, n_top, WORD_BINS)) != NULL;
    ok = ok && (parts[5] = PyLong_FromSsize_t(d_words)) != NULL;
    ok = ok && (parts[6] = bottom_k_bytes(names, n_names, NAME_BINS, bitmap)) != NULL;
    ok = ok && (parts[7] = PyLong_FromSsize_t(d_names)) != NULL;
    ok = ok && (parts[8] = bottom_k_bytes(every, n_every, ALL_BINS, bitmap)) != NULL;
    ok = ok && (parts[9] = PyLong_FromSsize_t(d_all)) != NULL;
    ok = ok && (parts[10] = smallest32_bytes(every, n_every, PROBE_KEYS)) != NULL;
    ok = ok && (parts[11] = PyLong_FromUnsignedLongLong(anchor)) != NULL;
    ok = ok && (parts[12] = PyBytes_FromStringAndSize((const char *)order, sizeof(order))) != NULL;
    ok = ok && (parts[13] = PyLong_FromSsize_t(n_order)) != NULL;
    ok = ok && (parts[14] = PyLong_FromUnsignedLongLong(names_key)) != NULL;
    ok = ok && (parts[15] = PyLong_FromUnsignedLongLong(lead_key)) != NULL;
    if (ok) {
        result = PyTuple_New(16);
        if (result) {
            for (int i = 0; i < 16; i++) {
                PyTuple_SET_ITEM(result, i, parts[i]); /* steals */
                parts[i] = NULL;
            }
        }
    }
    for (int i = 0; i < 16; i++) {
        Py_XDECREF(parts[i]);
    }

done:
    PyMem_Free(h);
    PyMem_Free(top_pairs);
    PyMem_Free(names);
    PyMem_Free(every);
    PyMem_Free(hw);
    PyMem_Free(uniq);
    PyMem_Free(weights);
    PyMem_Free(hw_tmp);
    PyMem_Free(table);
    PyMem_Free(bitmap);
    PyMem_Free(lead);
    PyBuffer_Release(&pos);
    PyBuffer_Release(&log1);
    Py_DECREF(feats);
    return result;
}

/* words_hash(s) -> int
 * xxh64 (seed 0) of the UTF-8 of " ".join(re.findall(r"\w+", s)): `\w` is what the regex engine
 * takes for a word character in a str pattern (str.isalnum() or "_"). */
static PyObject *
words_hash(PyObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "words_hash: a str is needed");
        return NULL;
    }
    const int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    /* 4 bytes per character at most, a space before each word included (it follows a
     * character that is no word character, of at least 1 byte) */
    uint8_t *buf = PyMem_Malloc((size_t)n * 4 + 1);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    size_t m = 0;
    int in_word = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (!re_word_char(c)) {
            in_word = 0;
            continue;
        }
        if (!in_word && m > 0) {
            buf[m++] = ' ';
        }
        in_word = 1;
        if (c < 0x80) {
            buf[m++] = (uint8_t)c;
        }
        else if (c < 0x800) {
            buf[m++] = (uint8_t)(0xC0 | (c >> 6));
            buf[m++] = (uint8_t)(0x80 | (c & 0x3F));
        }
        else if (c < 0x10000) { /* no surrogate is alphanumeric */
            buf[m++] = (uint8_t)(0xE0 | (c >> 12));
            buf[m++] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            buf[m++] = (uint8_t)(0x80 | (c & 0x3F));
        }
        else {
            buf[m++] = (uint8_t)(0xF0 | (c >> 18));
            buf[m++] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
            buf[m++] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            buf[m++] = (uint8_t)(0x80 | (c & 0x3F));
        }
    }
    const uint64_t h = sig_xxh64(buf, m, 0);
    PyMem_Free(buf);
    return PyLong_FromUnsignedLongLong(h);
}

/* ------------------------------------------------------------------------- clean stage scans */

/* Kernels of `pipeline.clean`: which groups of literal strings occur in a unit (the pre-filters
 * of the chrome patterns, `pipeline.clean._patterns.needle_hits`), the stopword votes of a text
 * against a table built once (`pipeline.clean._lang.stopword_votes`), and a capped word count
 * (`pipeline.clean._text`). The tables are capsules made by `needle_table` / `stopword_table`
 * from Python values; they own copies of what they need and keep no Python reference but the
 * stopword table's codes. */

/* A code point as stored in the tables: every kind read as UCS4, so texts of any kind compare. */
#define CLN_READ(kind, data, i)                                                                   \
    ((kind) == PyUnicode_1BYTE_KIND   ? (Py_UCS4)((const Py_UCS1 *)(data))[i]                     \
     : (kind) == PyUnicode_2BYTE_KIND ? (Py_UCS4)((const Py_UCS2 *)(data))[i]                     \
                                      : (Py_UCS4)((const Py_UCS4 *)(data))[i])

#define NH_BUCKETS 1024
#define NH_MAX_ONE 64

typedef struct {
    uint64_t always;              /* groups holding the empty string: in every text */
    uint64_t all;                 /* every group that has a needle (or the empty string) */
    Py_ssize_t n;                 /* needles of three or more characters, sorted by bucket */
    Py_UCS4 *chars;               /* their characters, one after the other */
    Py_ssize_t *start, *len;      /* where each one's characters are, and how many */
    uint64_t *mask;               /* the groups each one belongs to */
    int32_t bucket[NH_BUCKETS + 1]; /* needles of bucket b: [bucket[b], bucket[b + 1]) */
    uint64_t tri_bits[1024];      /* 65536 bits: nh_hash3 of the first three characters */
    Py_ssize_t n_one;             /* needles of one character */
    Py_UCS4 one[NH_MAX_ONE];
    uint64_t one_mask[NH_MAX_ONE];
    uint64_t one_bits[4];         /* 256 bits: c & 0xff of some one-character needle */
    Py_ssize_t n_two;             /* needles of two characters */
    Py_UCS4 two[NH_MAX_ONE][2];
    uint64_t two_mask[NH_MAX_ONE];
    uint64_t two_bits[1024];      /* 65536 bits: (c0 & 0xff) << 8 | (c1 & 0xff) of some */
} needle_set;

/* 16 bits from the first three characters of a needle (or of a text position): the bit of
 * tri_bits, and its top 10 bits the bucket (most positions of news text pass no bit; a filter
 * on two characters let 40% of them through to the buckets). */
static inline unsigned
nh_hash3(Py_UCS4 c0, Py_UCS4 c1, Py_UCS4 c2)
{
    return (unsigned)((((uint32_t)c0 * 0x9E3779B1u) ^ ((uint32_t)c1 * 0x85EBCA77u) ^
                       ((uint32_t)c2 * 0xC2B2AE3Du)) >> 16);
}

static void
needle_set_free(PyObject *capsule)
{
    needle_set *t = (needle_set *)PyCapsule_GetPointer(capsule, "pipeline._native.needle_set");
    if (t != NULL) {
        PyMem_Free(t->chars);
        PyMem_Free(t->start);
        PyMem_Free(t->len);
        PyMem_Free(t->mask);
        PyMem_Free(t);
    }
}

/* needle_table(groups) -> capsule
 *     The table of `needle_hits` for a sequence of at most 64 groups, each a sequence of str. */
static PyObject *
needle_table(PyObject *self, PyObject *arg)
{
    PyObject *groups = PySequence_Fast(arg, "needle_table: groups must be a sequence");
    if (groups == NULL) {
        return NULL;
    }
    needle_set *t = NULL;
    Py_ssize_t *bucket_of = NULL, *order = NULL;
    Py_UCS4 *tmp_chars = NULL;
    Py_ssize_t *tmp_start = NULL, *tmp_len = NULL;
    uint64_t *tmp_mask = NULL;
    PyObject *result = NULL;
    const Py_ssize_t n_groups = PySequence_Fast_GET_SIZE(groups);
    if (n_groups > 64) {
        PyErr_SetString(PyExc_ValueError, "needle_table: at most 64 groups");
        goto done;
    }
    /* count the needles and their characters */
    Py_ssize_t n_needles = 0, n_chars = 0;
    for (Py_ssize_t g = 0; g < n_groups; g++) {
        PyObject *group = PySequence_Fast_GET_ITEM(groups, g);
        if (!PyTuple_Check(group) && !PyList_Check(group)) {
            PyErr_SetString(PyExc_TypeError, "needle_table: each group must be a tuple or list of str");
            goto done;
        }
        Py_ssize_t size = PySequence_Fast_GET_SIZE(group);
        for (Py_ssize_t k = 0; k < size; k++) {
            PyObject *needle = PySequence_Fast_GET_ITEM(group, k);
            if (!PyUnicode_Check(needle)) {
                PyErr_SetString(PyExc_TypeError, "needle_table: needles must be str");
                goto done;
            }
            n_needles++;
            n_chars += PyUnicode_GET_LENGTH(needle);
        }
    }
    t = PyMem_Calloc(1, sizeof(needle_set));
    tmp_chars = PyMem_Malloc((size_t)(n_chars + 1) * sizeof(Py_UCS4));
    tmp_start = PyMem_Malloc((size_t)(n_needles + 1) * sizeof(Py_ssize_t));
    tmp_len = PyMem_Malloc((size_t)(n_needles + 1) * sizeof(Py_ssize_t));
    tmp_mask = PyMem_Malloc((size_t)(n_needles + 1) * sizeof(uint64_t));
    bucket_of = PyMem_Malloc((size_t)(n_needles + 1) * sizeof(Py_ssize_t));
    order = PyMem_Malloc((size_t)(n_needles + 1) * sizeof(Py_ssize_t));
    if (!t || !tmp_chars || !tmp_start || !tmp_len || !tmp_mask || !bucket_of || !order) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t m = 0, at = 0;
    for (Py_ssize_t g = 0; g < n_groups; g++) {
        PyObject *group = PySequence_Fast_GET_ITEM(groups, g);
        const uint64_t bit = 1ULL << g;
        for (Py_ssize_t k = 0; k < PySequence_Fast_GET_SIZE(group); k++) {
            PyObject *needle = PySequence_Fast_GET_ITEM(group, k);
            const Py_ssize_t len = PyUnicode_GET_LENGTH(needle);
            const int kind = PyUnicode_KIND(needle);
            const void *data = PyUnicode_DATA(needle);
            t->all |= bit;
            if (len == 0) {
                t->always |= bit;
                continue;
            }
            if (len == 2) {
                const Py_UCS4 c0 = CLN_READ(kind, data, 0), c1 = CLN_READ(kind, data, 1);
                Py_ssize_t j;
                for (j = 0; j < t->n_two && (t->two[j][0] != c0 || t->two[j][1] != c1); j++) {
                }
                if (j == t->n_two) {
                    if (t->n_two == NH_MAX_ONE) {
                        PyErr_SetString(PyExc_ValueError, "needle_table: too many two-character needles");
                        goto done;
                    }
                    t->two[j][0] = c0;
                    t->two[j][1] = c1;
                    t->two_mask[t->n_two++] = 0;
                    const unsigned pair = ((c0 & 0xff) << 8) | (c1 & 0xff);
                    t->two_bits[pair >> 6] |= 1ULL << (pair & 63);
                }
                t->two_mask[j] |= bit;
                continue;
            }
            if (len == 1) {
                const Py_UCS4 c = CLN_READ(kind, data, 0);
                Py_ssize_t j;
                for (j = 0; j < t->n_one && t->one[j] != c; j++) {
                }
                if (j == t->n_one) {
                    if (t->n_one == NH_MAX_ONE) {
                        PyErr_SetString(PyExc_ValueError, "needle_table: too many one-character needles");
                        goto done;
                    }
                    t->one[t->n_one] = c;
                    t->one_mask[t->n_one++] = 0;
                    t->one_bits[(c & 0xff) >> 6] |= 1ULL << (c & 63);
                }
                t->one_mask[j] |= bit;
                continue;
            }
            for (Py_ssize_t i = 0; i < len; i++) {
                tmp_chars[at + i] = CLN_READ(kind, data, i);
            }
            tmp_start[m] = at;
            tmp_len[m] = len;
            tmp_mask[m] = bit;
            const unsigned h3 = nh_hash3(tmp_chars[at], tmp_chars[at + 1], tmp_chars[at + 2]);
            bucket_of[m] = h3 >> 6;
            t->tri_bits[h3 >> 6] |= 1ULL << (h3 & 63);
            at += len;
            m++;
        }
    }
    /* counting sort of the needles by bucket */
    for (Py_ssize_t j = 0; j < m; j++) {
        t->bucket[bucket_of[j] + 1]++;
    }
    for (int b = 0; b < NH_BUCKETS; b++) {
        t->bucket[b + 1] += t->bucket[b];
    }
    {
        int32_t fill[NH_BUCKETS];
        memcpy(fill, t->bucket, sizeof(fill));
        for (Py_ssize_t j = 0; j < m; j++) {
            order[fill[bucket_of[j]]++] = j;
        }
    }
    t->n = m;
    t->chars = tmp_chars;
    t->start = PyMem_Malloc((size_t)(m + 1) * sizeof(Py_ssize_t));
    t->len = PyMem_Malloc((size_t)(m + 1) * sizeof(Py_ssize_t));
    t->mask = PyMem_Malloc((size_t)(m + 1) * sizeof(uint64_t));
    tmp_chars = NULL;
    if (!t->start || !t->len || !t->mask) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t j = 0; j < m; j++) {
        t->start[j] = tmp_start[order[j]];
        t->len[j] = tmp_len[order[j]];
        t->mask[j] = tmp_mask[order[j]];
    }
    result = PyCapsule_New(t, "pipeline._native.needle_set", needle_set_free);
    if (result != NULL) {
        t = NULL; /* the capsule owns it */
    }
done:
    if (t != NULL) {
        PyMem_Free(t->chars);
        PyMem_Free(t->start);
        PyMem_Free(t->len);
        PyMem_Free(t->mask);
        PyMem_Free(t);
    }
    PyMem_Free(tmp_chars);
    PyMem_Free(tmp_start);
    PyMem_Free(tmp_len);
    PyMem_Free(tmp_mask);
    PyMem_Free(bucket_of);
    PyMem_Free(order);
    Py_DECREF(groups);
    return result;
}

static inline __attribute__((always_inline)) uint64_t
nh_scan(const int kind, const void *data, const Py_ssize_t n, const needle_set *t)
{
    uint64_t found = t->always;
    if (found == t->all) {
        return found;
    }
    Py_UCS4 c1 = n > 0 ? CLN_READ(kind, data, 0) : 0, c2 = n > 1 ? CLN_READ(kind, data, 1) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const Py_UCS4 c0 = c1;
        c1 = c2;
        c2 = i + 2 < n ? CLN_READ(kind, data, i + 2) : 0;
        if (t->n_one && (t->one_bits[(c0 & 0xff) >> 6] >> (c0 & 63) & 1)) {
            for (Py_ssize_t j = 0; j < t->n_one; j++) {
                if (t->one[j] == c0) {
                    found |= t->one_mask[j];
                }
            }
            if (found == t->all) {
                return found;
            }
        }
        if (i + 1 >= n) {
            break;
        }
        const unsigned pair = ((c0 & 0xff) << 8) | (c1 & 0xff);
        if (t->n_two && (t->two_bits[pair >> 6] >> (pair & 63) & 1)) {
            for (Py_ssize_t j = 0; j < t->n_two; j++) {
                if (t->two[j][0] == c0 && t->two[j][1] == c1) {
                    found |= t->two_mask[j];
                }
            }
            if (found == t->all) {
                return found;
            }
        }
        if (i + 2 >= n) {
            continue;
        }
        const unsigned h3 = nh_hash3(c0, c1, c2);
        if (!(t->tri_bits[h3 >> 6] >> (h3 & 63) & 1)) {
            continue;
        }
        const unsigned b = h3 >> 6;
        for (int32_t j = t->bucket[b]; j < t->bucket[b + 1]; j++) {
            const Py_ssize_t len = t->len[j];
            if (!(t->mask[j] & ~found) || len > n - i) {
                continue;
            }
            const Py_UCS4 *w = t->chars + t->start[j];
            Py_ssize_t k = 0;
            while (k < len && w[k] == CLN_READ(kind, data, i + k)) {
                k++;
            }
            if (k == len) {
                found |= t->mask[j];
                if (found == t->all) {
                    return found;
                }
            }
        }
    }
    return found;
}

/* needle_hits(text, table) -> int
 *     Bit g set when some string of group g of the table (`needle_table`) is in `text`:
 *     sum(1 << g for g, group in enumerate(groups) if any(s in text for s in group)). */
static PyObject *
needle_hits(PyObject *self, PyObject *args)
{
    PyObject *text, *capsule;
    if (!PyArg_ParseTuple(args, "UO:needle_hits", &text, &capsule)) {
        return NULL;
    }
    const needle_set *t = PyCapsule_GetPointer(capsule, "pipeline._native.needle_set");
    if (t == NULL) {
        return NULL;
    }
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    uint64_t found;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        found = nh_scan(PyUnicode_1BYTE_KIND, data, n, t);
        break;
    case PyUnicode_2BYTE_KIND:
        found = nh_scan(PyUnicode_2BYTE_KIND, data, n, t);
        break;
    default:
        found = nh_scan(PyUnicode_4BYTE_KIND, data, n, t);
        break;
    }
    return PyLong_FromUnsignedLongLong(found);
}

typedef struct {
    Py_ssize_t min_len, max_len; /* bounds of the lengths of the words */
    Py_ssize_t n_slots;          /* power of two, at least twice the words */
    int32_t *slot;               /* word index + 1, or 0 for an empty slot */
    Py_UCS4 *chars;              /* the words' characters */
    Py_ssize_t *start, *len;
    int32_t *code;               /* each word's code: an index into `codes` */
    PyObject *codes;             /* tuple of the distinct codes (as a dict tells them apart) */
} stop_table;

static inline uint64_t
st_hash_step(uint64_t h, Py_UCS4 c)
{
    return (h ^ c) * 0x100000001B3ULL;
}

static void
stop_table_free(PyObject *capsule)
{
    stop_table *t = (stop_table *)PyCapsule_GetPointer(capsule, "pipeline._native.stop_table");
    if (t != NULL) {
        PyMem_Free(t->slot);
        PyMem_Free(t->chars);
        PyMem_Free(t->start);
        PyMem_Free(t->len);
        PyMem_Free(t->code);
        Py_XDECREF(t->codes);
        PyMem_Free(t);
    }
}

/* stopword_table(owners) -> capsule
 *     The table of `stopword_votes_table` for an exact dict of str (the words) -> code. */
static PyObject *
stopword_table(PyObject *self, PyObject *owners)
{
    if (!PyDict_CheckExact(owners)) {
        PyErr_SetString(PyExc_TypeError, "stopword_table: owners must be a dict");
        return NULL;
    }
    const Py_ssize_t n = PyDict_GET_SIZE(owners);
    if (n > INT32_MAX / 4) {
        PyErr_SetString(PyExc_ValueError, "stopword_table: too many words");
        return NULL;
    }
    PyObject *index = PyDict_New(); /* code -> its position in `codes` */
    PyObject *codes = PyList_New(0);
    PyObject *capsule = NULL;
    stop_table *t = PyMem_Calloc(1, sizeof(stop_table));
    if (index == NULL || codes == NULL || t == NULL) {
        if (t == NULL) {
            PyErr_NoMemory();
        }
        goto error;
    }
    Py_ssize_t n_chars = 0, pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(owners, &pos, &key, &value)) {
        if (!PyUnicode_Check(key)) {
            PyErr_SetString(PyExc_TypeError, "stopword_table: words must be str");
            goto error;
        }
        n_chars += PyUnicode_GET_LENGTH(key);
    }
    t->n_slots = 16;
    while (t->n_slots < 2 * n + 2) {
        t->n_slots *= 2;
    }
    t->slot = PyMem_Calloc((size_t)t->n_slots, sizeof(int32_t));
    t->chars = PyMem_Malloc((size_t)(n_chars + 1) * sizeof(Py_UCS4));
    t->start = PyMem_Malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    t->len = PyMem_Malloc((size_t)(n + 1) * sizeof(Py_ssize_t));
    t->code = PyMem_Malloc((size_t)(n + 1) * sizeof(int32_t));
    if (!t->slot || !t->chars || !t->start || !t->len || !t->code) {
        PyErr_NoMemory();
        goto error;
    }
    t->min_len = PY_SSIZE_T_MAX;
    t->max_len = 0;
    Py_ssize_t w = 0, at = 0;
    pos = 0;
    while (PyDict_Next(owners, &pos, &key, &value)) {
        Py_INCREF(key);
        Py_INCREF(value);
        PyObject *found = PyDict_GetItemWithError(index, value); /* borrowed */
        Py_ssize_t c;
        if (found != NULL) {
            c = PyLong_AsSsize_t(found);
        }
        else if (PyErr_Occurred()) { /* an unhashable code */
            Py_DECREF(key);
            Py_DECREF(value);
            goto error;
        }
        else {
            c = PyList_GET_SIZE(codes);
            PyObject *number = PyLong_FromSsize_t(c);
            int rc = number == NULL ? -1 : PyDict_SetItem(index, value, number);
            Py_XDECREF(number);
            if (rc < 0 || PyList_Append(codes, value) < 0) {
                Py_DECREF(key);
                Py_DECREF(value);
                goto error;
            }
        }
        const int kind = PyUnicode_KIND(key);
        const void *data = PyUnicode_DATA(key);
        const Py_ssize_t len = PyUnicode_GET_LENGTH(key);
        uint64_t h = 0xCBF29CE484222325ULL;
        for (Py_ssize_t i = 0; i < len; i++) {
            t->chars[at + i] = CLN_READ(kind, data, i);
            h = st_hash_step(h, t->chars[at + i]);
        }
        Py_DECREF(key);
        Py_DECREF(value);
        t->start[w] = at;
        t->len[w] = len;
        t->code[w] = (int32_t)c;
        at += len;
        t->min_len = len < t->min_len ? len : t->min_len;
        t->max_len = len > t->max_len ? len : t->max_len;
        /* keys of a dict are distinct: no need to look for an equal one */
        Py_ssize_t s = (Py_ssize_t)(h & (uint64_t)(t->n_slots - 1));
        while (t->slot[s]) {
            s = (s + 1) & (t->n_slots - 1);
        }
        t->slot[s] = (int32_t)(w + 1);
        w++;
    }
    if (w != n) {
        PyErr_SetString(PyExc_RuntimeError, "stopword_table: owners changed size during the build");
        goto error;
    }
    if ((t->codes = PyList_AsTuple(codes)) == NULL) {
        goto error;
    }
    capsule = PyCapsule_New(t, "pipeline._native.stop_table", stop_table_free);
    if (capsule == NULL) {
        goto error;
    }
    Py_DECREF(index);
    Py_DECREF(codes);
    return capsule;
error:
    if (t != NULL) {
        PyMem_Free(t->slot);
        PyMem_Free(t->chars);
        PyMem_Free(t->start);
        PyMem_Free(t->len);
        PyMem_Free(t->code);
        Py_XDECREF(t->codes);
        PyMem_Free(t);
    }
    Py_XDECREF(index);
    Py_XDECREF(codes);
    return NULL;
}

/* stopword_votes_table(text, table) -> dict
 *     What stopword_votes(text, owners) gives for the owners the table was built from
 *     (`stopword_table`), looked up in the table without a str per run: each code (the first of
 *     equal ones in the order of owners) with its count, in order of first appearance. */
static PyObject *
stopword_votes_table(PyObject *self, PyObject *args)
{
    PyObject *text, *capsule;
    if (!PyArg_ParseTuple(args, "UO:stopword_votes_table", &text, &capsule)) {
        return NULL;
    }
    const stop_table *t = PyCapsule_GetPointer(capsule, "pipeline._native.stop_table");
    if (t == NULL) {
        return NULL;
    }
    const Py_ssize_t n_codes = PyTuple_GET_SIZE(t->codes);
    Py_ssize_t *counts = PyMem_Calloc((size_t)(n_codes + 1), sizeof(Py_ssize_t));
    Py_ssize_t *seen = PyMem_Malloc((size_t)(n_codes + 1) * sizeof(Py_ssize_t));
    if (counts == NULL || seen == NULL) {
        PyMem_Free(counts);
        PyMem_Free(seen);
        return PyErr_NoMemory();
    }
    Py_ssize_t n_seen = 0;
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const uint64_t slot_mask = (uint64_t)(t->n_slots - 1);
    Py_ssize_t i = 0;
    while (i < n) {
        if (!votes_run_char(CLN_READ(kind, data, i))) {
            i++;
            continue;
        }
        const Py_ssize_t start = i;
        uint64_t h = 0xCBF29CE484222325ULL;
        while (i < n) {
            const Py_UCS4 c = CLN_READ(kind, data, i);
            if (!votes_run_char(c)) {
                break;
            }
            h = st_hash_step(h, c);
            i++;
        }
        const Py_ssize_t len = i - start;
        if (len < t->min_len || len > t->max_len) {
            continue;
        }
        for (uint64_t s = h & slot_mask; t->slot[s]; s = (s + 1) & slot_mask) {
            const Py_ssize_t w = t->slot[s] - 1;
            if (t->len[w] != len) {
                continue;
            }
            const Py_UCS4 *chars = t->chars + t->start[w];
            Py_ssize_t k = 0;
            while (k < len && chars[k] == CLN_READ(kind, data, start + k)) {
                k++;
            }
            if (k == len) {
                const int32_t c = t->code[w];
                if (counts[c]++ == 0) {
                    seen[n_seen++] = c;
                }
                break;
            }
        }
    }
    PyObject *result = PyDict_New();
    for (Py_ssize_t j = 0; result != NULL && j < n_seen; j++) {
        PyObject *count = PyLong_FromSsize_t(counts[seen[j]]);
        if (count == NULL || PyDict_SetItem(result, PyTuple_GET_ITEM(t->codes, seen[j]), count) < 0) {
            Py_CLEAR(result);
        }
        Py_XDECREF(count);
    }
    PyMem_Free(counts);
    PyMem_Free(seen);
    return result;
}

/* count_words(text, cap) -> int
 *     len(text.split(maxsplit=cap)): the number of runs of non-white-space characters (Python's
 *     str.isspace), at most cap + 1 (no bound when cap < 0). */
static PyObject *
count_words(PyObject *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t cap;
    if (!PyArg_ParseTuple(args, "Un:count_words", &text, &cap)) {
        return NULL;
    }
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const Py_ssize_t most = cap < 0 ? PY_SSIZE_T_MAX : cap + 1;
    Py_ssize_t words = 0;
    int in_word = 0;
    for (Py_ssize_t i = 0; i < n && words <= most; i++) { /* (not most + 1: no bound overflows) */
        const int space = Py_UNICODE_ISSPACE(CLN_READ(kind, data, i));
        words += !space && !in_word;
        in_word = !space;
    }
    return PyLong_FromSsize_t(words < most ? words : most);
}

/* ---- end of the clean stage scans ---- */

static PyMethodDef native_methods[] = {
    {"dfa_features", dfa_features, METH_VARARGS,
     "dfa_features(data, nextmove, rowbase, output) -> (idx int64 bytes, counts float32 bytes)"},
    {"keyword_rank", keyword_rank, METH_VARARGS,
     "keyword_rank(keys, surfaces, runs, n_runs, title_words, entity_keys, top, surface) -> list"},
    {"keyword_rank_after", keyword_rank_after, METH_VARARGS,
     "keyword_rank_after(first_keys, first_surfaces, first_runs, first_n_runs, keys, surfaces, runs, "
     "n_runs, title_words, entity_keys, top, surface) -> list"},
    {"keyword_scan", keyword_scan, METH_VARARGS,
     "keyword_scan(text, kinds) -> (keys, surfaces, runs, n_runs, n_words)"},
    {"split_tokens", split_tokens, METH_O,
     "split_tokens(text) -> list[str]: pipeline.dedup._features._SPLIT_RE.split(text)"},
    {"features", article_features, METH_VARARGS,
     "features(folded, fast, entries, make_entry, numbers, make_number) -> list[Feature]"},
    /* dedup index kernels */
    {"index_near", index_near, METH_VARARGS,
     "index_near(q, offsets, rows, fp, ts, built, n, masks, max_distance, close_distance, far) -> list[int]"},
    {"index_key_rows", index_key_rows, METH_VARARGS,
     "index_key_rows(hi, offsets, rows, delta, n_delta, built, key32, ts, fp, q, max_distance, "
     "screen_above, cap) -> list[int] | None"},
    {"index_any_rows", index_any_rows, METH_VARARGS,
     "index_any_rows(hi, offsets, rows, delta, n_delta, built, keys, ts) -> list[int]"},
    {"index_rows", index_rows, METH_VARARGS,
     "index_rows(w, width, fp, kept, q, sketch_col, words_col, sketch, words, pairs_col, pairs_bins, "
     "pairs, pairs_count, names_col, names_bins, names, names_count) -> (dists, sims, pairs, names, counts)"},
    {"index_common_order", index_common_order, METH_VARARGS,
     "index_common_order(a, na, b, nb) -> int | None: pipeline.dedup._index.common_order (na <= 64)"},
    {"stopword_votes", stopword_votes, METH_VARARGS,
     "stopword_votes(text, owners, min_len=1, max_len=maxsize) -> dict: pipeline.clean._lang votes"},
    {"prefixed_word_starts", prefixed_word_starts, METH_VARARGS,
     "prefixed_word_starts(text, prefixes) -> list[int]: word starts where one of the prefixes begins"},
    /* signature kernels */
    {"signature_parts", signature_parts, METH_VARARGS,
     "signature_parts(feats, positions, log1) -> fingerprint_parts' 12 items + (order, order_count, "
     "names_key, lead_key)"},
    {"words_hash", words_hash, METH_O,
     "words_hash(s) -> int: xxh64 of the UTF-8 of ' '.join(re.findall(r'\\w+', s))"},
    {"xxh64", py_xxh64, METH_VARARGS, "xxh64(data, seed=0) -> int: xxhash.xxh64_intdigest"},
    /* clean stage scans */
    {"needle_table", needle_table, METH_O, "needle_table(groups) -> capsule for needle_hits"},
    {"needle_hits", needle_hits, METH_VARARGS,
     "needle_hits(text, table) -> int: bit g set when a string of group g is in text"},
    {"stopword_table", stopword_table, METH_O, "stopword_table(owners) -> capsule for stopword_votes_table"},
    {"stopword_votes_table", stopword_votes_table, METH_VARARGS,
     "stopword_votes_table(text, table) -> dict: stopword_votes(text, owners) of the table's owners"},
    {"count_words", count_words, METH_VARARGS, "count_words(text, cap) -> int: len(text.split(maxsplit=cap))"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "_native", "Compiled kernels of the pipeline stages.", -1, native_methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    PyObject *module = PyModule_Create(&native_module);
    /* the largest `top` keyword_rank takes (its Python caller uses the twin above it) */
    if (module != NULL && PyModule_AddIntConstant(module, "KEYWORD_RANK_MAX_TOP", MAX_TOP) < 0) {
        Py_CLEAR(module);
    }
    return module;
}
