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
 * fingerprint(feats, key_hashes, positions, log1) -> tuple | None
 *     The numeric core of `pipeline.dedup._fingerprint` for n >= 3 features ((key, weight, ...)
 *     tuples): what `aggregate` and then `sketch`, `bottom_k` and `smallest32` compute with numpy
 *     (see `pipeline.dedup._fingerprint.fingerprint_parts` for the order of the results). Key
 *     hashes come from the memo dict `key_hashes`; None when a key is not in it yet (the caller
 *     hashes the keys, which fills the memo, and calls again).
 *
 * keyword_tokens(text) -> list[str]
 *     What `pipeline.enrich._keywords._TOKEN.findall(text)` returns: words (runs of alphanumeric
 *     characters joined by runs of "_", apostrophes or hyphens), the run-breaking punctuation
 *     marks, and an apostrophe standing between white space; with Python's own Unicode tables
 *     for "alphanumeric" and "white space", as the regex engine uses them.
 *
 * split_tokens(text) -> list[str]
 *     What `pipeline.dedup._features._SPLIT_RE.split(text)` returns: [gap, token, gap, ...,
 *     token, gap], tokens being ASCII words (with at most one inner apostrophe) and numbers
 *     (decimal digits, groups joined by "." or ",").
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

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
 * Defined for plain hashes and for (hash, weight) pairs sorted by hash. */
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

#define KEY_SELF(x) (x)
#define KEY_HASH(x) ((x).h)
DEFINE_RADIX(radix_u64, uint64_t, KEY_SELF)
DEFINE_RADIX(radix_hw, hw_t, KEY_HASH)

/* sort v[0..n) and keep each value once; returns the new length */
static Py_ssize_t
distinct_u64(uint64_t *v, uint64_t *tmp, Py_ssize_t n)
{
    if (n < 2) {
        return n;
    }
    radix_u64(v, tmp, n);
    Py_ssize_t m = 1;
    for (Py_ssize_t i = 1; i < n; i++) {
        if (v[i] != v[m - 1]) {
            v[m++] = v[i];
        }
    }
    return m;
}

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

static PyObject *
fingerprint(PyObject *self, PyObject *args)
{
    PyObject *featlist, *feats = NULL, *memo, *posobj, *logobj;
    Py_buffer pos, log1;
    PyObject *result = NULL;
    uint64_t *h = NULL, *top_pairs = NULL, *words = NULL, *names = NULL, *every = NULL;
    hw_t *hw = NULL, *hw_tmp = NULL;
    uint64_t *uniq = NULL, *tmp = NULL;
    double *weights = NULL;
    uint64_t *bitmap = NULL;

    if (!PyArg_ParseTuple(args, "O!O!OO:fingerprint", &PyList_Type, &featlist, &PyDict_Type, &memo,
                          &posobj, &logobj)) {
        return NULL;
    }
    if (PyList_GET_SIZE(featlist) < 3) {
        PyErr_SetString(PyExc_ValueError, "fingerprint: needs at least 3 features");
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
        PyErr_SetString(PyExc_ValueError, "fingerprint: positions and log1 need n entries");
        goto done;
    }
    const double *position = (const double *)pos.buf;
    const double *log_1 = (const double *)log1.buf; /* log_1[c - 1] == 1 + log(c) */

    h = PyMem_Malloc((size_t)n * sizeof(uint64_t));
    top_pairs = PyMem_Malloc(SKETCH_TOKENS * sizeof(uint64_t));
    words = PyMem_Malloc(SKETCH_TOKENS * sizeof(uint64_t));
    names = PyMem_Malloc((size_t)n * sizeof(uint64_t));
    every = PyMem_Malloc((size_t)n * sizeof(uint64_t));
    hw = PyMem_Malloc((size_t)n * sizeof(hw_t));
    uniq = PyMem_Malloc((size_t)n * sizeof(uint64_t));
    weights = PyMem_Malloc((size_t)n * sizeof(double));
    hw_tmp = PyMem_Malloc((size_t)n * sizeof(hw_t));
    tmp = PyMem_Malloc((size_t)n * sizeof(uint64_t));
    bitmap = PyMem_Malloc(1024 * sizeof(uint64_t));
    if (!h || !top_pairs || !words || !names || !every || !hw || !uniq || !weights || !hw_tmp || !tmp
        || !bitmap) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t n_names = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *feat = PyTuple_GET_ITEM(feats, i);
        if (!PyTuple_Check(feat) || PyTuple_GET_SIZE(feat) < 2) {
            PyErr_SetString(PyExc_TypeError, "fingerprint: features must be (key, weight, ...) tuples");
            goto done;
        }
        PyObject *key = PyTuple_GET_ITEM(feat, 0);
        if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) == 0) {
            PyErr_SetString(PyExc_TypeError, "fingerprint: keys must be non-empty strings");
            goto done;
        }
        PyObject *hash = PyDict_GetItemWithError(memo, key); /* borrowed */
        if (hash == NULL) {
            if (!PyErr_Occurred()) {
                result = Py_NewRef(Py_None); /* not memoised yet: the caller hashes and retries */
            }
            goto done;
        }
        h[i] = PyLong_AsUnsignedLongLong(hash);
        if (h[i] == (uint64_t)-1 && PyErr_Occurred()) {
            goto done;
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
        }
    }
    const Py_ssize_t n_top = n < SKETCH_TOKENS ? n : SKETCH_TOKENS;
    Py_ssize_t n_pairs = n_top - 1;
    for (Py_ssize_t i = 0; i < n_pairs; i++) {
        top_pairs[i] = chain(h[i], h[i + 1]);
    }
    uint64_t anchor = top_pairs[0];
    for (Py_ssize_t i = 1; i < n_pairs && i < ANCHOR_TOKENS - 1; i++) {
        if (top_pairs[i] < anchor) {
            anchor = top_pairs[i];
        }
    }
    memcpy(words, h, (size_t)n_top * sizeof(uint64_t));
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
    n_pairs = distinct_u64(top_pairs, tmp, n_pairs);
    Py_ssize_t n_words = distinct_u64(words, tmp, n_top);
    n_names = distinct_u64(names, tmp, n_names);
    Py_ssize_t n_all = distinct_u64(every, tmp, n_every);

    PyObject *parts[12] = {NULL};
    int ok = 1; /* each part only while the ones before it were made (no call with an error set) */
    ok = ok && (parts[0] = PyByteArray_FromStringAndSize((const char *)uniq, n_uniq * 8)) != NULL;
    ok = ok && (parts[1] = PyByteArray_FromStringAndSize((const char *)weights, n_uniq * 8)) != NULL;
    ok = ok && (parts[2] = sketch_bytes(top_pairs, n_pairs, SKETCH_BINS)) != NULL;
    ok = ok && (parts[3] = PyLong_FromSsize_t(n_pairs)) != NULL;
    ok = ok && (parts[4] = sketch_bytes(words, n_words, WORD_BINS)) != NULL;
    ok = ok && (parts[5] = PyLong_FromSsize_t(n_words)) != NULL;
    ok = ok && (parts[6] = bottom_k_bytes(names, n_names, NAME_BINS, bitmap)) != NULL;
    ok = ok && (parts[7] = PyLong_FromSsize_t(n_names)) != NULL;
    ok = ok && (parts[8] = bottom_k_bytes(every, n_all, ALL_BINS, bitmap)) != NULL;
    ok = ok && (parts[9] = PyLong_FromSsize_t(n_all)) != NULL;
    ok = ok && (parts[10] = smallest32_bytes(every, n_all, PROBE_KEYS)) != NULL;
    ok = ok && (parts[11] = PyLong_FromUnsignedLongLong(anchor)) != NULL;
    if (ok) {
        result = PyTuple_New(12);
        if (result) {
            for (int i = 0; i < 12; i++) {
                PyTuple_SET_ITEM(result, i, parts[i]); /* steals */
                parts[i] = NULL;
            }
        }
    }
    for (int i = 0; i < 12; i++) {
        Py_XDECREF(parts[i]);
    }

done:
    PyMem_Free(h);
    PyMem_Free(top_pairs);
    PyMem_Free(words);
    PyMem_Free(names);
    PyMem_Free(every);
    PyMem_Free(hw);
    PyMem_Free(uniq);
    PyMem_Free(weights);
    PyMem_Free(hw_tmp);
    PyMem_Free(tmp);
    PyMem_Free(bitmap);
    PyBuffer_Release(&pos);
    PyBuffer_Release(&log1);
    Py_DECREF(feats);
    return result;
}

/* --------------------------------------------------------------------------- keyword tokens */

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

static PyObject *
keyword_tokens(PyObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "keyword_tokens: text must be a str");
        return NULL;
    }
    const int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    Py_ssize_t i = 0;
    while (i < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        Py_ssize_t end = -1;
        if (Py_UNICODE_ISALNUM(c)) {
            end = i + 1;
            while (end < n && Py_UNICODE_ISALNUM(PyUnicode_READ(kind, data, end))) {
                end++;
            }
            for (;;) { /* (joiners, then alphanumerics)*: each round only if both are there */
                Py_ssize_t j = end;
                while (j < n && is_joiner(PyUnicode_READ(kind, data, j))) {
                    j++;
                }
                if (j == end || j >= n || !Py_UNICODE_ISALNUM(PyUnicode_READ(kind, data, j))) {
                    break;
                }
                end = j + 1;
                while (end < n && Py_UNICODE_ISALNUM(PyUnicode_READ(kind, data, end))) {
                    end++;
                }
            }
        }
        else if (is_break_mark(c)) {
            end = i + 1;
        }
        else if (c == '\'' && i > 0 && i + 1 < n
                 && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i - 1))
                 && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i + 1))) {
            end = i + 1;
        }
        if (end < 0) {
            i++;
            continue;
        }
        PyObject *tok = PyUnicode_Substring(arg, i, end);
        if (tok == NULL || PyList_Append(out, tok) < 0) {
            Py_XDECREF(tok);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(tok);
        i = end;
    }
    return out;
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
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        Py_ssize_t end = -1;
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
        }
        else if (Py_UNICODE_ISDECIMAL(c)) {
            end = i + 1;
            while (end < n && Py_UNICODE_ISDECIMAL(PyUnicode_READ(kind, data, end))) {
                end++;
            }
            while (end + 1 < n) { /* (. or , then digits)* */
                Py_UCS4 sep = PyUnicode_READ(kind, data, end);
                if (!((sep == '.' || sep == ',') && Py_UNICODE_ISDECIMAL(PyUnicode_READ(kind, data, end + 1)))) {
                    break;
                }
                end += 2;
                while (end < n && Py_UNICODE_ISDECIMAL(PyUnicode_READ(kind, data, end))) {
                    end++;
                }
            }
        }
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

static PyMethodDef native_methods[] = {
    {"dfa_features", dfa_features, METH_VARARGS,
     "dfa_features(data, nextmove, rowbase, output) -> (idx int64 bytes, counts float32 bytes)"},
    {"fingerprint", fingerprint, METH_VARARGS,
     "fingerprint(feats, key_hashes, positions, log1) -> 12-tuple or None (see fingerprint_parts)"},
    {"keyword_tokens", keyword_tokens, METH_O,
     "keyword_tokens(text) -> list[str]: pipeline.enrich._keywords._TOKEN.findall(text)"},
    {"split_tokens", split_tokens, METH_O,
     "split_tokens(text) -> list[str]: pipeline.dedup._features._SPLIT_RE.split(text)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "_native", "Compiled kernels of the pipeline stages.", -1, native_methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModule_Create(&native_module);
}
