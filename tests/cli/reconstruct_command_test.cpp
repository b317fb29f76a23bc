// `smlm reconstruct`: its three outputs on the reference stack with a tiny trained model, thread
// independence, both presets, and bad models, stacks and output folders.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>

#include <smlm/io/csv.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>
#include <smlm/nn/model_file.hpp>

#include "cli_run.hpp"

using namespace smlm::cli_test;

namespace {

namespace fs = std::filesystem;

const std::string reference_stack = data_dir + "/thunderstorm_sim_20frames.tif";


/// A sub-pixel model with r = 4 after 4 training steps (about a second), trained once per run.
const std::string& tiny_model() {
  static const std::string path = [] {
    const std::string model = fresh_dir("reconstruct_model") + "/tiny.smlm";
    auto r = run_smlm("train -o " + model +
                      " --arch sub_pixel --upsample 4 --steps 4 --batch 2 --patch 16 --validation-batches 1"
                      " --validate-every 2 --threads 2 -q");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return model;
  }();
  return path;
}

}  // namespace

TEST_CASE("reconstruct writes localizations, a float image and a PNG for the reference stack") {
  const std::string& model = tiny_model();
  const std::string out = tmp_dir + "/reconstruct_ref";
  fs::remove_all(out);
  auto r = run_smlm("reconstruct " + model + " " + reference_stack + " -o " + out + " --threads 2 -q");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  CHECK(r.output.find("frames=20 ") == 0);
  CHECK(field(r.output, "seconds") > 0);
  CHECK(field(r.output, "frames_per_s") > 0);
  CHECK(files_in(out) == std::set<std::string>{"image.png", "image.tif", "localizations.csv"});

  // The threshold printed is the one the model file carries.
  auto file = smlm::nn::load_model_file(model);
  REQUIRE(file);
  auto stored = file->get_double("decode.threshold");
  REQUIRE(stored);
  CHECK(field(r.output, "threshold") == doctest::Approx(*stored).epsilon(1e-4));

  auto locs = smlm::io::read_localizations_csv(out + "/localizations.csv");
  REQUIRE_MESSAGE(locs, (locs ? std::string() : locs.message()));
  CHECK(static_cast<double>(locs->size()) == field(r.output, "localizations"));
  for (std::size_t i = 0; i < locs->size(); ++i) {
    CHECK(locs->frame[i] >= 1);
    CHECK(locs->frame[i] <= 20);
    // 64 × 64 pixels of 100 nm.
    CHECK(locs->x_nm[i] >= 0);
    CHECK(locs->x_nm[i] <= 6400);
    CHECK(locs->y_nm[i] >= 0);
    CHECK(locs->y_nm[i] <= 6400);
  }

  auto reader = smlm::io::TiffReader::open(out + "/image.tif");
  REQUIRE_MESSAGE(reader, (reader ? std::string() : reader.message()));
  CHECK(reader->frames() == 1);
  CHECK(reader->width() == 64 * 4);
  CHECK(reader->height() == 64 * 4);
  CHECK(reader->info().type == smlm::io::pixel_type::f32);
  smlm::Image<float> image;
  REQUIRE(reader->read_frame(0, image).ok());
  CHECK(image.allFinite());

  const std::string png = slurp(out + "/image.png");
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));

  // A lower threshold keeps at least as many local maxima. (Only a little lower: the output of a
  // network after 4 steps has thousands of maxima per frame; at threshold 0 about 4,000 per
  // 64 × 64 frame go into the joint photon fit, seconds per frame under the sanitizers.)
  const double lower = field(r.output, "threshold") * 0.9;
  const std::string out0 = tmp_dir + "/reconstruct_ref_lower";
  fs::remove_all(out0);
  auto r0 = run_smlm("reconstruct " + model + " " + reference_stack + " -o " + out0 + " --threads 2 -q --threshold " +
                     std::to_string(lower));
  INFO(r0.output);
  REQUIRE(r0.exit_code == 0);
  CHECK(field(r0.output, "threshold") == doctest::Approx(lower).epsilon(1e-4));
  CHECK(field(r0.output, "localizations") > field(r.output, "localizations"));
  CHECK(field(r0.output, "localizations") > 0);
  // The image does not depend on the decoding threshold.
  CHECK(slurp(out0 + "/image.tif") == slurp(out + "/image.tif"));
}

TEST_CASE("reconstruct gives the same files on 1 and 2 threads; other batch and tile sizes stitch whole frames") {
  const std::string& model = tiny_model();
  const std::string a = tmp_dir + "/reconstruct_t1", b = tmp_dir + "/reconstruct_t2", c = tmp_dir + "/reconstruct_tiles";
  fs::remove_all(a);
  fs::remove_all(b);
  fs::remove_all(c);
  auto r1 = run_smlm("reconstruct " + model + " " + reference_stack + " -o " + a + " --threads 1 -q");
  auto r2 = run_smlm("reconstruct " + model + " " + reference_stack + " -o " + b + " --threads 2 -q");
  INFO(r1.output);
  INFO(r2.output);
  REQUIRE(r1.exit_code == 0);
  REQUIRE(r2.exit_code == 0);
  CHECK(field(r1.output, "localizations") == field(r2.output, "localizations"));
  CHECK(slurp(a + "/localizations.csv") == slurp(b + "/localizations.csv"));
  CHECK(slurp(a + "/image.tif") == slurp(b + "/image.tif"));
  CHECK(slurp(a + "/image.png") == slurp(b + "/image.png"));

  // 3 frames per batch (the last batch short) and 32-pixel tiles (4 × 4 per frame, stitched).
  // Tiling is not bit-exact (the network sees less context near a tile's inner edges), but a
  // lost or misplaced tile would change far more than a few per cent of the localizations.
  auto r3 = run_smlm("reconstruct " + model + " " + reference_stack + " -o " + c + " --threads 2 --batch 3 --tile 32 -q");
  INFO(r3.output);
  REQUIRE(r3.exit_code == 0);
  CHECK(r3.output.find("frames=20 ") == 0);
  CHECK(field(r3.output, "localizations") == doctest::Approx(field(r1.output, "localizations")).epsilon(0.05));
  auto reader = smlm::io::TiffReader::open(c + "/image.tif");
  REQUIRE(reader);
  CHECK(reader->width() == 64 * 4);
  CHECK(reader->height() == 64 * 4);
}

TEST_CASE("reconstruct --maps writes every frame's output map; counting by mass adds exactly the peaks it splits") {
  const std::string& model = tiny_model();
  const std::string dir = fresh_dir("reconstruct_maps");
  // The tiny model with counting by mass on at 1.2 single-molecule masses (the unit is measured
  // on the stack; the stored one is the fallback for short stacks).
  const std::string counting = dir + "/counting.smlm";
  {
    auto f = smlm::nn::load_model_file(model);
    REQUIRE(f);
    f->set("decode.split_factor", 1.2);
    f->set("decode.single_mass", 1.0);
    f->set("decode.single_var_px2", 1.0);
    REQUIRE(smlm::nn::save_model_file(counting, *f).ok());
  }
  auto r = run_smlm("reconstruct " + counting + " " + reference_stack + " -o " + dir + "/on --maps " + dir +
                    "/maps.tif --threads 2 -q");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(field(r.output, "split") > 0);
  auto maps = smlm::io::TiffReader::open(dir + "/maps.tif");
  REQUIRE_MESSAGE(maps, (maps ? std::string() : maps.message()));
  CHECK(maps->frames() == 20);
  CHECK(maps->width() == 64 * 4);
  CHECK(maps->height() == 64 * 4);
  CHECK(maps->info().type == smlm::io::pixel_type::f32);
  CHECK(!fs::exists(dir + "/maps.tif.tmp"));
  // The maps, added in frame order, are the summed image.
  smlm::Image<float> sum = smlm::Image<float>::Zero(256, 256), frame;
  for (std::ptrdiff_t f = 0; f < 20; ++f) {
    REQUIRE(maps->read_frame(f, frame).ok());
    sum += frame;
  }
  auto image = smlm::io::TiffReader::open(dir + "/on/image.tif");
  REQUIRE(image);
  smlm::Image<float> summed;
  REQUIRE(image->read_frame(0, summed).ok());
  CHECK((sum - summed).abs().maxCoeff() == 0.0f);

  // --split-factor 0: the same peaks, none split.
  auto off = run_smlm("reconstruct " + counting + " " + reference_stack + " -o " + dir + "/off --split-factor 0 --threads 2 -q");
  INFO(off.output);
  REQUIRE(off.exit_code == 0);
  CHECK(field(off.output, "split") == 0);
  CHECK(field(r.output, "localizations") == field(off.output, "localizations") + field(r.output, "split"));
  auto on_locs = smlm::io::read_localizations_csv(dir + "/on/localizations.csv");
  REQUIRE(on_locs);
  CHECK(std::is_sorted(on_locs->frame.begin(), on_locs->frame.end()));
  CHECK(std::all_of(on_locs->intensity_photons.begin(), on_locs->intensity_photons.end(),
                    [](double v) { return std::isfinite(v); }));
}

TEST_CASE("reconstruct runs a deep_storm model (enlarged input) on a small simulated stack") {
  const std::string dir = fresh_dir("reconstruct_deep_storm");
  const std::string model = dir + "/ds.smlm", stack = dir + "/s.tif", out = dir + "/out";
  auto t = run_smlm("train -o " + model +
                    " --arch deep_storm --upsample 4 --steps 2 --batch 2 --patch 8 --validation-batches 1"
                    " --validate-every 2 --threads 2 -q");
  INFO(t.output);
  REQUIRE(t.exit_code == 0);
  CHECK(t.output.find("arch=deep_storm upsample=4 steps=2 ") == 0);
  REQUIRE(run_smlm("simulate -o " + stack + " --truth " + dir + "/s.csv --frames 3 --size 24 --seed 3").exit_code == 0);
  auto r = run_smlm("reconstruct " + model + " " + stack + " -o " + out + " --threads 2 -q");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  CHECK(r.output.find("frames=3 ") == 0);
  auto reader = smlm::io::TiffReader::open(out + "/image.tif");
  REQUIRE(reader);
  CHECK(reader->width() == 24 * 4);
  CHECK(reader->height() == 24 * 4);
  auto locs = smlm::io::read_localizations_csv(out + "/localizations.csv");
  REQUIRE(locs);
  for (std::size_t i = 0; i < locs->size(); ++i) {
    CHECK(locs->frame[i] >= 1);
    CHECK(locs->frame[i] <= 3);
  }
}

TEST_CASE("reconstruct: bad models, stacks and outputs exit non-zero with one line naming the culprit") {
  const std::string& model = tiny_model();
  const std::string dir = fresh_dir("reconstruct_bad");
  const std::string out = dir + "/out";
  const std::string bytes = slurp(model);
  REQUIRE(bytes.size() > 1000);

  const std::string truncated = dir + "/truncated.smlm", flipped = dir + "/flipped.smlm", empty = dir + "/empty.smlm",
                    renamed = dir + "/renamed.smlm", no_unit = dir + "/no_unit.smlm", trailing = dir + "/trailing.smlm", plain = dir + "/plain.txt";
  write_file(truncated, bytes.substr(0, bytes.size() / 2));
  std::string damaged = bytes;
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x10);
  write_file(flipped, damaged);
  write_file(empty, "");
  write_file(trailing, bytes + "x");
  write_file(plain, "not a folder\n");
  {
    // A valid file that names the other preset: its tensors are laid out for another network.
    auto f = smlm::nn::load_model_file(model);
    REQUIRE(f);
    f->set("arch", std::string("deep_storm"));
    REQUIRE(smlm::nn::save_model_file(renamed, *f).ok());
    // Tuned without counting by mass: --split-factor has no unit to scale.
    auto g = smlm::nn::load_model_file(model);
    REQUIRE(g);
    g->set("decode.split_factor", 0.0);
    g->set("decode.single_mass", 0.0);
    REQUIRE(smlm::nn::save_model_file(no_unit, *g).ok());
  }
  // A float stack whose second frame holds a NaN: found while reconstructing, after the output
  // folder was made, which must then be removed again.
  const std::string nan_stack = dir + "/nan.tif";
  {
    auto writer = smlm::io::TiffWriter::create(nan_stack, smlm::io::pixel_type::f32, 16, 16, 2);
    REQUIRE(writer);
    smlm::Image<float> frame = smlm::Image<float>::Constant(16, 16, 100);
    REQUIRE(writer->write_frame(frame).ok());
    frame(5, 7) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE(writer->write_frame(frame).ok());
    REQUIRE(writer->close().ok());
  }
  const std::string stack = " " + reference_stack + " ";
  struct Case {
    std::string args, needle;
    std::string out;  // must not exist afterwards
  };
  for (const Case& c : {
           Case{"reconstruct " + dir + "/missing.smlm" + stack + "-o " + out, dir + "/missing.smlm", out},
           Case{"reconstruct " + reference_stack + stack + "-o " + out, reference_stack, out},
           Case{"reconstruct " + truncated + stack + "-o " + out, truncated, out},
           Case{"reconstruct " + flipped + stack + "-o " + out, flipped, out},
           Case{"reconstruct " + empty + stack + "-o " + out, empty, out},
           Case{"reconstruct " + trailing + stack + "-o " + out, trailing, out},
           Case{"reconstruct " + renamed + stack + "-o " + out, renamed, out},
           Case{"reconstruct " + model + " " + dir + "/missing.tif -o " + out, dir + "/missing.tif", out},
           Case{"reconstruct " + model + " " + model + " -o " + out, model, out},
           Case{"reconstruct " + model + " " + nan_stack + " -o " + out, nan_stack + ": frame 2", out},
           Case{"reconstruct " + model + stack + "-o " + plain + "/out", plain + "/out", plain + "/out"},
           Case{"reconstruct " + model + stack, "--output", out},
           Case{"reconstruct " + model + stack + "-o " + out + " --threshold -1", "--threshold", out},
           Case{"reconstruct " + model + stack + "-o " + out + " --tile 4", "--tile", out},
           Case{"reconstruct " + model + stack + "-o " + out + " --split-factor -1", "--split-factor", out},
           Case{"reconstruct " + no_unit + stack + "-o " + out + " --split-factor 1.5", "--split-factor", out},
           Case{"reconstruct " + model + " " + nan_stack + " -o " + out + " --maps " + dir + "/maps.tif", nan_stack, out},
       }) {
    CAPTURE(c.args);
    auto r = run_smlm(c.args + " --threads 2 -q");
    CAPTURE(r.output);
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.needle) != std::string::npos);
    std::error_code ec;
    CHECK(!fs::exists(c.out, ec));
  }
  CHECK(slurp(plain) == "not a folder\n");
  // (the NaN stack's maps, begun under a temporary name, are gone too)
  CHECK(files_in(dir) == std::set<std::string>{"empty.smlm", "flipped.smlm", "nan.tif", "no_unit.smlm", "plain.txt",
                                               "renamed.smlm", "trailing.smlm", "truncated.smlm"});
}
