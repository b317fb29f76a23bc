// TIFF stacks: the streaming reader and writer (part of smlmkit::io; needs libtiff ≥ 4.5).
#pragma once

#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>
