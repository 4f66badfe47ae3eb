// Exposes libxxhash's XXH3 functions to Swift. Only the Encoding module imports this.
#include <xxhash.h>
