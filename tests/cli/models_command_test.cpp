// The shipped default models (models/, docs/model-card.md): `smlm models` lists them with the
// conditions they were trained for, and each reconstructs a small stack of its conditions at the
// accuracy the model card states, picked by `smlm reconstruct STACK --camera C` without a model.
// A change to the model format, the engine or the decoder that breaks them fails here.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli_run.hpp"

using namespace smlm::cli_test;

namespace {

/// The line of `smlm models` that names `file`.
std::string model_line(const std::string& listing, const std::string& file) {
  for (const std::string& line : split_lines(listing))
    if (line.starts_with("name=" + file + " ")) return line;
  FAIL("no line for " << file << " in:\n" << listing);
  return {};
}

}  // namespace

TEST_CASE("smlm models lists the shipped models with their recorded imaging conditions") {
  const auto r = run_smlm("models");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.output) == 2);
  const std::string emccd = model_line(r.output, "sub_pixel_emccd.smlm");
  CHECK(text_field(emccd, "cameras") == "emccd,scmos,ideal");
  CHECK(text_field(emccd, "arch") == "sub_pixel");
  CHECK(field(emccd, "upsample") == 8);
  CHECK(field(emccd, "pixel_nm") == 100);
  CHECK(text_field(emccd, "sigma_nm") == "105:116");
  CHECK(text_field(emccd, "photons") == "2000:2500");
  CHECK(text_field(emccd, "quality") == "none");
  const std::string phone = model_line(r.output, "sub_pixel_phone.smlm");
  CHECK(text_field(phone, "cameras") == "cmos-phone");
  CHECK(field(phone, "upsample") == 4);
  CHECK(field(phone, "pixel_nm") == 80);
  CHECK(text_field(phone, "sigma_nm") == "96");
  CHECK(text_field(phone, "photons") == "50:1500");
  CHECK(text_field(phone, "quality") == "60:95");
  CHECK(text_field(phone, "trained_on") == "cmos-phone");
  // A folder without them is named.
  const std::string empty = fresh_dir("models_empty");
  const auto missing = run_smlm("models --models-dir " + empty);
  CHECK(missing.exit_code != 0);
  CHECK(missing.output.find(empty + "/sub_pixel_emccd.smlm") != std::string::npos);
}

TEST_CASE("the shipped EMCCD model reconstructs the reference stack at the model card's accuracy") {
  // Model card: Jaccard 0.919, RMSE 22.3 nm at 100 nm on all 20 frames (tolerance here: 0.02 and
  // 2 nm, for a change of the engine's rounding or thread count).
  const std::string out = fresh_dir("models_emccd");
  const auto r = run_smlm("reconstruct " + data_dir + "/thunderstorm_sim_20frames.tif -o " + out + " --threads 2 -q");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(field(r.output, "frames") == 20);
  const auto e = run_smlm("evaluate " + truth_csv + " " + out + "/localizations.csv --tolerance 100");
  INFO(e.output);
  REQUIRE(e.exit_code == 0);
  CHECK(field(e.output, "jaccard") >= 0.90);
  CHECK(field(e.output, "rmse_nm") <= 24.3);
}

TEST_CASE("the shipped phone model reconstructs compressed phone video at the model card's accuracy") {
  // docs/cellstorm.md: Jaccard 0.963 at 100 nm on 300 frames of 128 x 128 at 500 photons, quality
  // 60; here the first 20 frames of that acquisition (about 1,000 molecules): >= 0.93, and it
  // beats classic fitting on the same frames.
  const std::string dir = fresh_dir("models_phone");
  REQUIRE(run_smlm("simulate -o " + dir + "/phone.tif --truth " + dir + "/truth.csv --frames 20 --size 128 --pixel-nm 80"
                   " --structure filaments --density 1.5 --photons 500 --sigma-nm 96 --background 5 --camera cmos-phone"
                   " --quality 60 --seed 7")
              .exit_code == 0);
  const auto r = run_smlm("reconstruct " + dir + "/phone.tif -o " + dir + "/net --camera cmos-phone --threads 2 -q");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto net = run_smlm("evaluate " + dir + "/truth.csv " + dir + "/net/localizations.csv --tolerance 100");
  REQUIRE(run_smlm("localize " + dir + "/phone.tif -o " + dir + "/classic.csv --pixel-nm 80 --sigma-nm 96 --camera cmos-phone")
              .exit_code == 0);
  const auto classic = run_smlm("evaluate " + dir + "/truth.csv " + dir + "/classic.csv --tolerance 100");
  INFO(net.output);
  INFO(classic.output);
  CHECK(field(net.output, "tp") > 800);
  CHECK(field(net.output, "jaccard") >= 0.93);
  CHECK(field(net.output, "jaccard") > field(classic.output, "jaccard"));
}

TEST_CASE("smlm reconstruct without a model: a camera with no shipped model or a missing file is named") {
  const std::string stack = data_dir + "/thunderstorm_sim_20frames.tif";
  const std::string out = fresh_dir("models_bad") + "/out";
  const auto potato = run_smlm("reconstruct " + stack + " -o " + out + " --camera potato");
  CHECK(potato.exit_code != 0);
  CHECK(potato.output.find("--camera") != std::string::npos);
  const std::string empty = fresh_dir("models_bad_dir");
  const auto missing = run_smlm("reconstruct " + stack + " -o " + out + " --models-dir " + empty);
  CHECK(missing.exit_code != 0);
  CHECK(missing.output.find(empty + "/sub_pixel_emccd.smlm") != std::string::npos);
  const auto three = run_smlm("reconstruct " + stack + " " + stack + " " + stack + " -o " + out);
  CHECK(three.exit_code != 0);
}
