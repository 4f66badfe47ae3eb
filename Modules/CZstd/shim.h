// Exposes libzstd's simple and context APIs to Swift. Only the Encoding module imports this.
#include <zstd.h>
