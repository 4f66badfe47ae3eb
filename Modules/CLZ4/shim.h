// Exposes liblz4's block API to Swift. Only the Encoding module imports this.
#include <lz4.h>
