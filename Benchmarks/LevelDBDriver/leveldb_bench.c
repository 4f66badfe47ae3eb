/*
 * leveldb_bench: the LevelDB peer for `make bench-peers`.
 *
 * A small driver over LevelDB's C API (leveldb/c.h) that takes strata-bench's db_bench flags
 * and prints db_bench's line format, generating exactly the same keys (decimal, zero-padded
 * to --key_size), the same values (half-compressible, from the same SplitMix64 stream) and the
 * same random key sequence as strata-bench for a given --seed, so both engines do identical
 * work. Single-threaded (--threads=1); benchmarks: fillseq fillrandom overwrite fillsync
 * deleteseq deleterandom readrandom readmissing readseq readreverse seekrandom compact.
 *
 * Build: cc -O2 -o leveldb_bench leveldb_bench.c -lleveldb   (Debian: libleveldb-dev)
 */
#include <leveldb/c.h>

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *benchmarks;
    long num;
    long reads;
    int value_size;
    int key_size;
    const char *db;
    int use_existing_db;
    long cache_size;
    int bloom_bits;
    const char *compression_type;
    double compression_ratio;
    long write_buffer_size;
    int block_size;
    long max_file_size;
    int batch_size;
    int seek_nexts;
    int sync;
    int threads;
    uint64_t seed;
    int histogram;
} Flags;

static Flags flags = {
    "fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom", 1000000, -1, 100, 16, NULL, 0,
    8 << 20, 10, "none", 0.5, 4 << 20, 4096, 2 << 20, 1, 0, 0, 1, 0, 0,
};

/* SplitMix64, the generator strata-bench uses, so both drivers produce the same keys. */
typedef struct { uint64_t state; } Random;

static uint64_t random_next(Random *random) {
    random->state += 0x9E3779B97F4A7C15ull;
    uint64_t z = random->state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE5E9B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t now_nanos(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Decimal, zero-padded on the left to key_size bytes; low-order digits kept. */
static void format_key(char *key, uint64_t index) {
    for (int position = flags.key_size - 1; position >= 0; position--) {
        key[position] = (char)('0' + index % 10);
        index /= 10;
    }
}

/* Values: 100-byte pieces of ratio*100 random printable bytes repeated (strata-bench's recipe). */
typedef struct {
    char *data;
    size_t size;
    size_t position;
} ValueGenerator;

static void values_init(ValueGenerator *values, uint64_t seed) {
    size_t size = 1 << 20;
    if ((size_t)flags.value_size * 2 > size) size = (size_t)flags.value_size * 2;
    values->data = malloc(size);
    values->size = size;
    values->position = 0;
    Random random = {seed};
    int raw_size = (int)(100 * flags.compression_ratio + 0.5);
    if (raw_size < 1) raw_size = 1;
    if (raw_size > 100) raw_size = 100;
    char raw[100];
    size_t filled = 0;
    while (filled < size) {
        for (int i = 0; i < raw_size; i++) raw[i] = (char)(' ' + random_next(&random) % 95);
        for (int written = 0; written < 100 && filled < size; written++) values->data[filled++] = raw[written % raw_size];
    }
}

static const char *values_next(ValueGenerator *values, size_t length) {
    if (values->position + length > values->size) values->position = 0;
    const char *result = values->data + values->position;
    values->position += length;
    return result;
}

typedef struct {
    const char *name;
    long operations;
    long bytes;
    long found;
    long lookups;
    int report_found;
    uint64_t start;
    uint64_t last;
    uint64_t *latencies;
    long latency_count;
} Stats;

static void stats_start(Stats *stats, const char *name, long expected) {
    memset(stats, 0, sizeof(*stats));
    stats->name = name;
    stats->start = now_nanos();
    stats->last = stats->start;
    if (flags.histogram) stats->latencies = malloc(sizeof(uint64_t) * (size_t)(expected > 0 ? expected : 1));
}

static void stats_done(Stats *stats, long count) {
    stats->operations += count;
    if (stats->latencies) {
        uint64_t now = now_nanos();
        stats->latencies[stats->latency_count++] = now - stats->last;
        stats->last = now;
    }
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void stats_report(Stats *stats) {
    double elapsed = (double)(now_nanos() - stats->start) / 1e9;
    long done = stats->operations > 0 ? stats->operations : 1;
    char extra[200] = "";
    if (stats->bytes > 0) snprintf(extra, sizeof(extra), "%6.1f MB/s", stats->bytes / 1048576.0 / elapsed);
    if (stats->report_found) {
        char message[100];
        snprintf(message, sizeof(message), "(%ld of %ld found)", stats->found, stats->lookups);
        if (extra[0]) strncat(extra, " ", sizeof(extra) - strlen(extra) - 1);
        strncat(extra, message, sizeof(extra) - strlen(extra) - 1);
    }
    printf("%-12s : %11.3f micros/op %ld ops/sec %.3f seconds %ld operations;%s%s\n", stats->name,
           elapsed * 1e6 / done, (long)(stats->operations / elapsed), elapsed, stats->operations, extra[0] ? " " : "", extra);
    if (stats->latencies && stats->latency_count > 0) {
        qsort(stats->latencies, (size_t)stats->latency_count, sizeof(uint64_t), compare_u64);
#define PCT(p) (stats->latencies[(long)((p) / 100.0 * (stats->latency_count - 1))] / 1000.0)
        printf("Microseconds per op:\nPercentiles: P50: %.2f P95: %.2f P99: %.2f P99.9: %.2f max: %.2f\n",
               PCT(50), PCT(95), PCT(99), PCT(99.9), stats->latencies[stats->latency_count - 1] / 1000.0);
#undef PCT
    }
    free(stats->latencies);
    fflush(stdout);
}

static leveldb_t *db;
static leveldb_options_t *options;
static leveldb_readoptions_t *read_options;
static leveldb_writeoptions_t *write_options;
static leveldb_cache_t *cache;
static leveldb_filterpolicy_t *filter;

static void check(char *error, const char *what) {
    if (error) {
        fprintf(stderr, "leveldb_bench: %s: %s\n", what, error);
        exit(1);
    }
}

static void open_db(void) {
    char *error = NULL;
    db = leveldb_open(options, flags.db, &error);
    check(error, "open");
}

static void destroy_db(void) {
    char *error = NULL;
    if (db) {
        leveldb_close(db);
        db = NULL;
    }
    leveldb_destroy_db(options, flags.db, &error);
    check(error, "destroy");
}

enum { SEQUENTIAL, RANDOM };

static void do_write(Stats *stats, Random *random, ValueGenerator *values, int order, long count, int delete, int sync) {
    char key[1024];
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(wo, (unsigned char)sync);
    leveldb_writebatch_t *batch = leveldb_writebatch_create();
    long written = 0;
    while (written < count) {
        leveldb_writebatch_clear(batch);
        long entries = count - written < flags.batch_size ? count - written : flags.batch_size;
        for (long entry = 0; entry < entries; entry++) {
            uint64_t index = order == SEQUENTIAL ? (uint64_t)(written + entry) : random_next(random) % (uint64_t)flags.num;
            format_key(key, index);
            if (delete) {
                leveldb_writebatch_delete(batch, key, (size_t)flags.key_size);
            } else {
                leveldb_writebatch_put(batch, key, (size_t)flags.key_size, values_next(values, (size_t)flags.value_size), (size_t)flags.value_size);
                stats->bytes += flags.key_size + flags.value_size;
            }
        }
        char *error = NULL;
        leveldb_write(db, wo, batch, &error);
        check(error, "write");
        written += entries;
        stats_done(stats, entries);
    }
    leveldb_writebatch_destroy(batch);
    leveldb_writeoptions_destroy(wo);
}

static void do_read_random(Stats *stats, Random *random, int missing) {
    char key[1025];
    size_t length = (size_t)flags.key_size + (missing ? 1 : 0);
    key[flags.key_size] = '.';
    stats->report_found = 1;
    for (long i = 0; i < flags.reads; i++) {
        format_key(key, random_next(random) % (uint64_t)flags.num);
        size_t value_length = 0;
        char *error = NULL;
        char *value = leveldb_get(db, read_options, key, length, &value_length, &error);
        check(error, "get");
        stats->lookups++;
        if (value) {
            stats->found++;
            stats->bytes += (long)(length + value_length);
            leveldb_free(value);
        }
        stats_done(stats, 1);
    }
}

static void do_read_sequential(Stats *stats, int reverse) {
    leveldb_iterator_t *iterator = leveldb_create_iterator(db, read_options);
    if (reverse) leveldb_iter_seek_to_last(iterator); else leveldb_iter_seek_to_first(iterator);
    long remaining = flags.reads;
    while (leveldb_iter_valid(iterator) && remaining > 0) {
        size_t key_length, value_length;
        leveldb_iter_key(iterator, &key_length);
        leveldb_iter_value(iterator, &value_length);
        stats->bytes += (long)(key_length + value_length);
        if (reverse) leveldb_iter_prev(iterator); else leveldb_iter_next(iterator);
        remaining--;
        stats_done(stats, 1);
    }
    leveldb_iter_destroy(iterator);
}

static void do_seek_random(Stats *stats, Random *random) {
    char key[1024];
    stats->report_found = 1;
    for (long i = 0; i < flags.reads; i++) {
        format_key(key, random_next(random) % (uint64_t)flags.num);
        /* A new iterator per seek, as LevelDB's and RocksDB's db_bench do. */
        leveldb_iterator_t *iterator = leveldb_create_iterator(db, read_options);
        leveldb_iter_seek(iterator, key, (size_t)flags.key_size);
        stats->lookups++;
        if (leveldb_iter_valid(iterator)) {
            size_t key_length, value_length;
            const char *found = leveldb_iter_key(iterator, &key_length);
            leveldb_iter_value(iterator, &value_length);
            if (key_length == (size_t)flags.key_size && memcmp(found, key, key_length) == 0) stats->found++;
            stats->bytes += (long)(key_length + value_length);
            for (int step = 0; step < flags.seek_nexts; step++) {
                leveldb_iter_next(iterator);
                if (!leveldb_iter_valid(iterator)) break;
                leveldb_iter_key(iterator, &key_length);
                leveldb_iter_value(iterator, &value_length);
                stats->bytes += (long)(key_length + value_length);
            }
        }
        leveldb_iter_destroy(iterator);
        stats_done(stats, 1);
    }
}

static int parse_flag(const char *argument) {
    const char *equals = strchr(argument, '=');
    if (strncmp(argument, "--", 2) != 0 || !equals) return 0;
    size_t name_length = (size_t)(equals - argument - 2);
    const char *name = argument + 2;
    const char *value = equals + 1;
#define IS(text) (name_length == strlen(text) && strncmp(name, text, name_length) == 0)
    if (IS("benchmarks")) flags.benchmarks = value;
    else if (IS("num")) flags.num = atol(value);
    else if (IS("reads")) flags.reads = atol(value);
    else if (IS("value_size")) flags.value_size = atoi(value);
    else if (IS("key_size")) flags.key_size = atoi(value);
    else if (IS("db")) flags.db = value;
    else if (IS("use_existing_db")) flags.use_existing_db = atoi(value);
    else if (IS("cache_size")) flags.cache_size = atol(value);
    else if (IS("bloom_bits")) flags.bloom_bits = atoi(value);
    else if (IS("compression_type")) flags.compression_type = value;
    else if (IS("compression_ratio")) flags.compression_ratio = atof(value);
    else if (IS("write_buffer_size")) flags.write_buffer_size = atol(value);
    else if (IS("block_size")) flags.block_size = atoi(value);
    else if (IS("max_file_size") || IS("target_file_size_base")) flags.max_file_size = atol(value);
    else if (IS("batch_size")) flags.batch_size = atoi(value);
    else if (IS("seek_nexts")) flags.seek_nexts = atoi(value);
    else if (IS("sync")) flags.sync = atoi(value);
    else if (IS("threads")) flags.threads = atoi(value);
    else if (IS("seed")) flags.seed = strtoull(value, NULL, 10);
    else if (IS("histogram")) flags.histogram = atoi(value);
    else return 0;
#undef IS
    return 1;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!parse_flag(argv[i])) {
            fprintf(stderr, "leveldb_bench: unknown or malformed flag '%s'\n", argv[i]);
            return 2;
        }
    }
    if (flags.threads != 1) {
        fprintf(stderr, "leveldb_bench: only --threads=1 is supported\n");
        return 2;
    }
    if (flags.num <= 0 || flags.key_size < 1 || flags.key_size > 1023 || flags.value_size < 0 || flags.batch_size < 1) {
        fprintf(stderr, "leveldb_bench: --num, --key_size (1...1023), --value_size and --batch_size must be sensible\n");
        return 2;
    }
    if (flags.reads < 0) flags.reads = flags.num;
    char default_db[256];
    if (!flags.db) {
        const char *temporary = getenv("TMPDIR");
        snprintf(default_db, sizeof(default_db), "%s/leveldb-bench-%d", temporary ? temporary : "/tmp", (int)getuid());
        flags.db = default_db;
    }

    options = leveldb_options_create();
    leveldb_options_set_create_if_missing(options, 1);
    leveldb_options_set_write_buffer_size(options, (size_t)flags.write_buffer_size);
    leveldb_options_set_block_size(options, (size_t)flags.block_size);
    leveldb_options_set_max_file_size(options, (size_t)flags.max_file_size);
    leveldb_options_set_max_open_files(options, 1000);
    if (flags.cache_size > 0) {
        cache = leveldb_cache_create_lru((size_t)flags.cache_size);
        leveldb_options_set_cache(options, cache);
    }
    if (flags.bloom_bits > 0) {
        filter = leveldb_filterpolicy_create_bloom(flags.bloom_bits);
        leveldb_options_set_filter_policy(options, filter);
    }
    if (strcmp(flags.compression_type, "none") == 0) {
        leveldb_options_set_compression(options, leveldb_no_compression);
    } else if (strcmp(flags.compression_type, "snappy") == 0) {
        leveldb_options_set_compression(options, leveldb_snappy_compression);
    } else {
        fprintf(stderr, "leveldb_bench: LevelDB supports --compression_type=none or snappy, not %s\n", flags.compression_type);
        return 2;
    }
    read_options = leveldb_readoptions_create();
    write_options = leveldb_writeoptions_create();

    printf("LevelDB:     version %d.%d (leveldb_bench, C API)\n", leveldb_major_version(), leveldb_minor_version());
    printf("Keys:        %d bytes each\nValues:      %d bytes each\nEntries:     %ld\n", flags.key_size, flags.value_size, flags.num);
    printf("------------------------------------------------\n");
    if (!flags.use_existing_db) destroy_db();
    open_db();

    char *list = strdup(flags.benchmarks);
    int benchmark_index = 0;
    for (char *name = strtok(list, ","); name; name = strtok(NULL, ","), benchmark_index++) {
        uint64_t seed_base = flags.seed * 0x9E3779B9ull + ((uint64_t)benchmark_index << 32);
        Random random = {seed_base + 1};
        ValueGenerator values;
        values_init(&values, seed_base + 0xABCD);
        int fresh = strcmp(name, "fillseq") == 0 || strcmp(name, "fillrandom") == 0 || strcmp(name, "fillsync") == 0;
        if (fresh) {
            if (flags.use_existing_db) {
                printf("%-12s : skipped (--use_existing_db is true)\n", name);
                free(values.data);
                continue;
            }
            destroy_db();
            open_db();
        }
        Stats stats;
        long writes = strcmp(name, "fillsync") == 0 ? (flags.num / 1000 > 0 ? flags.num / 1000 : 1) : flags.num;
        stats_start(&stats, name, writes > flags.reads ? writes : flags.reads);
        if (strcmp(name, "fillseq") == 0) do_write(&stats, &random, &values, SEQUENTIAL, writes, 0, flags.sync);
        else if (strcmp(name, "fillrandom") == 0 || strcmp(name, "overwrite") == 0) do_write(&stats, &random, &values, RANDOM, writes, 0, flags.sync);
        else if (strcmp(name, "fillsync") == 0) do_write(&stats, &random, &values, RANDOM, writes, 0, 1);
        else if (strcmp(name, "deleteseq") == 0) do_write(&stats, &random, &values, SEQUENTIAL, writes, 1, flags.sync);
        else if (strcmp(name, "deleterandom") == 0) do_write(&stats, &random, &values, RANDOM, writes, 1, flags.sync);
        else if (strcmp(name, "readrandom") == 0) do_read_random(&stats, &random, 0);
        else if (strcmp(name, "readmissing") == 0) do_read_random(&stats, &random, 1);
        else if (strcmp(name, "readseq") == 0) do_read_sequential(&stats, 0);
        else if (strcmp(name, "readreverse") == 0) do_read_sequential(&stats, 1);
        else if (strcmp(name, "seekrandom") == 0) do_seek_random(&stats, &random);
        else if (strcmp(name, "compact") == 0) {
            leveldb_compact_range(db, NULL, 0, NULL, 0);
            stats_done(&stats, 1);
        } else {
            fprintf(stderr, "leveldb_bench: unknown benchmark '%s'\n", name);
            return 2;
        }
        stats_report(&stats);
        free(values.data);
    }
    free(list);

    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("Peak RSS: %.1f MB\n", usage.ru_maxrss / 1024.0);
    leveldb_close(db);
    leveldb_readoptions_destroy(read_options);
    leveldb_writeoptions_destroy(write_options);
    leveldb_options_destroy(options);
    if (cache) leveldb_cache_destroy(cache);
    if (filter) leveldb_filterpolicy_destroy(filter);
    return 0;
}
