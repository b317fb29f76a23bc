// `smlm train`: the files and summary line of a tiny run, resume, thread-count independence,
// bad inputs. Every run is a few steps on tiny patches: these check the contract, not learning.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <smlm/deep/model.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/nn/model_file.hpp>

#include "cli_run.hpp"

using namespace smlm::cli_test;

namespace {

namespace fs = std::filesystem;

/// Flags of a run that takes about a second: 4 steps of 2 sub-pixel patches of 16 × 16.
const std::string tiny_sub_pixel =
    " --arch sub_pixel --steps 4 --batch 2 --patch 16 --validation-batches 1 --validate-every 2 -q";

smlm::nn::ModelFile load(const std::string& path) {
  auto f = smlm::nn::load_model_file(path);
  INFO(path);
  REQUIRE_MESSAGE(f, (f ? std::string() : f.message()));
  return std::move(*f);
}

/// Values compared by their bits (a NaN equals the same NaN: validation.rmse_nm is NaN when
/// nothing matched).
bool same_bits(const smlm::nn::MetaValue& a, const smlm::nn::MetaValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<double>(&a)) return std::memcmp(x, &std::get<double>(b), sizeof(double)) == 0;
  if (const auto* x = std::get_if<std::vector<double>>(&a)) {
    const auto& y = std::get<std::vector<double>>(b);
    return x->size() == y.size() && std::memcmp(x->data(), y.data(), sizeof(double) * x->size()) == 0;
  }
  return a == b;
}

/// The metadata keys whose values differ (or that only one file has), and the tensors that differ
/// in name, shape or any bit.
struct FileDiff {
  std::set<std::string> keys, tensors;
};
FileDiff diff(const smlm::nn::ModelFile& a, const smlm::nn::ModelFile& b) {
  FileDiff d;
  for (const auto& e : a.metadata) {
    const auto* other = b.find(e.key);
    if (!other || !same_bits(other->value, e.value)) d.keys.insert(e.key);
  }
  for (const auto& e : b.metadata)
    if (!a.find(e.key)) d.keys.insert(e.key);
  for (const auto& t : a.tensors) {
    const auto* other = b.find_tensor(t.name);
    if (!other || other->tensor.shape() != t.tensor.shape() ||
        std::memcmp(other->tensor.data(), t.tensor.data(), sizeof(float) * static_cast<std::size_t>(t.tensor.size())) != 0)
      d.tensors.insert(t.name);
  }
  for (const auto& t : b.tensors)
    if (!a.find_tensor(t.name)) d.tensors.insert(t.name);
  return d;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ",") + x;
  return out;
}

}  // namespace

TEST_CASE("train writes the model and both checkpoints and prints one complete summary line") {
  const std::string dir = fresh_dir("train_files"), model = dir + "/m.smlm";
  auto r = run_smlm("train -o " + model + tiny_sub_pixel + " --threads 2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  CHECK(files_in(dir) == std::set<std::string>{"m.smlm", "m.smlm.best.ckpt", "m.smlm.last.ckpt"});

  const std::string& s = r.output;
  CHECK(s.find("arch=sub_pixel ") == 0);
  CHECK(field(s, "upsample") == 8);
  CHECK(field(s, "steps") == 4);
  CHECK(field(s, "minutes") >= 0);
  CHECK(std::isfinite(field(s, "loss")));
  CHECK(field(s, "loss") >= 0);
  CHECK(std::isfinite(field(s, "val_loss")));
  CHECK(field(s, "val_loss") >= 0);
  // Validation after steps 2 and 4: the best is one of them.
  const double best_step = field(s, "best_step");
  CHECK((best_step == 2 || best_step == 4));
  const double threshold = field(s, "threshold");
  CHECK(std::isfinite(threshold));
  CHECK(threshold >= 0);
  const double jaccard = field(s, "val_jaccard");
  CHECK(jaccard >= 0);
  CHECK(jaccard <= 1);
  // Without a match there is no error to average (NaN or 0 then); otherwise it is within the tolerance.
  const double rmse = field(s, "val_rmse_nm");
  if (jaccard > 0) {
    CHECK(rmse >= 0);
    CHECK(rmse <= 100);
  } else {
    CHECK((std::isnan(rmse) || rmse >= 0));
  }
  CHECK(field(s, "steps_per_s") > 0);
  CHECK(field(s, "data_wait_s") >= 0);

  // The files say what the line says; only the checkpoints carry the Adam state.
  const auto m = load(model), last = load(model + ".last.ckpt"), best = load(model + ".best.ckpt");
  const auto info = smlm::deep::read_info(m);
  REQUIRE_MESSAGE(info, (info ? std::string() : info.message()));
  CHECK(info->arch == "sub_pixel");
  CHECK(info->upsample == 8);
  CHECK(info->training.step == 4);
  CHECK(info->training.best_step == static_cast<std::int64_t>(best_step));
  CHECK(info->budget.steps == 4);
  CHECK(info->conditions.patch_px == 16);
  CHECK(info->decode.threshold == doctest::Approx(threshold).epsilon(1e-4));
  CHECK(m.find_tensor("param.0") != nullptr);
  CHECK(m.find_tensor("param.0.m") == nullptr);
  CHECK(last.find_tensor("param.0.m") != nullptr);
  CHECK(best.find_tensor("param.0.m") != nullptr);
  const auto last_info = smlm::deep::read_info(last);
  REQUIRE_MESSAGE(last_info, (last_info ? std::string() : last_info.message()));
  CHECK(last_info->training.step == 4);
  // The model holds the best checkpoint's weights.
  for (const auto& t : m.tensors) {
    const auto* b = best.find_tensor(t.name);
    REQUIRE(b != nullptr);
    CHECK(std::memcmp(b->tensor.data(), t.tensor.data(), sizeof(float) * static_cast<std::size_t>(t.tensor.size())) == 0);
  }
}

TEST_CASE("train --resume continues a run until its budget and does nothing once it is spent") {
  const std::string dir = fresh_dir("train_resume");
  const std::string a = dir + "/a.smlm", b = dir + "/b.smlm", c = dir + "/c.smlm", d = dir + "/d.smlm";
  const std::string common = " --threads 2 --validation-batches 1 --validate-every 2 -q";
  REQUIRE(run_smlm("train -o " + a + tiny_sub_pixel + " --threads 2").exit_code == 0);

  // 4 steps done, budget raised to 6: two more.
  auto r = run_smlm("train -o " + b + " --resume " + a + ".last.ckpt --steps 6" + common);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  CHECK(r.output.find("arch=sub_pixel ") == 0);
  CHECK(field(r.output, "steps") == 6);
  CHECK(field(r.output, "steps_per_s") > 0);
  CHECK(files_in(dir).count("b.smlm.last.ckpt") == 1);
  const auto b_last = load(b + ".last.ckpt");
  const auto b_info = smlm::deep::read_info(b_last);
  REQUIRE_MESSAGE(b_info, (b_info ? std::string() : b_info.message()));
  CHECK(b_info->training.step == 6);
  CHECK(b_info->budget.steps == 6);
  CHECK(!diff(load(a + ".last.ckpt"), b_last).tensors.empty());

  // Budget 6 already spent: no step, the weights and Adam state stay as they were.
  r = run_smlm("train -o " + c + " --resume " + b + ".last.ckpt --steps 6" + common);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.output) == 1);
  CHECK(field(r.output, "steps") == 6);
  CHECK(field(r.output, "steps_per_s") == 0);
  const FileDiff same = diff(b_last, load(c + ".last.ckpt"));
  CHECK_MESSAGE(same.tensors.empty(), "tensors changed: " << joined(same.tensors));

  // Without a budget flag the checkpoint's own budget (4 steps) applies: spent as well.
  r = run_smlm("train -o " + d + " --resume " + a + ".last.ckpt" + common);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(field(r.output, "steps") == 4);
  CHECK(field(r.output, "steps_per_s") == 0);

  // The documented form, in place: the same continuation as into b, bit for bit.
  r = run_smlm("train -o " + a + " --resume " + a + ".last.ckpt --steps 6" + common);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(field(r.output, "steps") == 6);
  CHECK(diff(load(a + ".last.ckpt"), b_last).tensors.empty());
  CHECK(diff(load(a), load(b)).tensors.empty());
  // Every run left its three files (the best weights of a resumed run come from the earlier
  // run's best checkpoint) and no temporary file.
  std::set<std::string> expected;
  for (const char* name : {"a", "b", "c", "d"})
    for (const char* suffix : {".smlm", ".smlm.best.ckpt", ".smlm.last.ckpt"}) expected.insert(std::string(name) + suffix);
  CHECK(files_in(dir) == expected);
}

TEST_CASE("train: the same seed and steps give the same weights on 1 and 2 threads") {
  const std::string dir = fresh_dir("train_threads");
  const std::string one = dir + "/t1.smlm", two = dir + "/t2.smlm";
  auto r1 = run_smlm("train -o " + one + tiny_sub_pixel + " --seed 5 --threads 1");
  auto r2 = run_smlm("train -o " + two + tiny_sub_pixel + " --seed 5 --threads 2");
  INFO(r1.output);
  INFO(r2.output);
  REQUIRE(r1.exit_code == 0);
  REQUIRE(r2.exit_code == 0);
  for (const char* key : {"loss", "val_loss", "best_step", "threshold", "val_jaccard", "val_rmse_nm"}) {
    CAPTURE(key);
    CHECK(text_field(r1.output, key) == text_field(r2.output, key));
  }
  // The files cannot be byte-identical: they record the wall-clock minutes of the run and the
  // command line (here --threads and -o differ). Everything else must be, bit for bit: every
  // tensor (weights, batch-norm statistics, Adam moments) and every other metadata value.
  // (The best checkpoint of a first run records minutes = 0: minutes are added when a run ends.)
  const std::set<std::string> may_differ{"train.command", "train.minutes"};
  for (const std::string suffix : {"", ".last.ckpt", ".best.ckpt"}) {
    CAPTURE(suffix);
    const FileDiff d = diff(load(one + suffix), load(two + suffix));
    CHECK_MESSAGE(d.tensors.empty(), "differing tensors: " << joined(d.tensors));
    for (const std::string& key : d.keys) {
      CAPTURE(key);
      CHECK(may_differ.count(key) == 1);
    }
    CHECK(d.keys.count("train.command") == 1);
  }
  // A different seed gives other weights.
  const std::string other = dir + "/t3.smlm";
  REQUIRE(run_smlm("train -o " + other + tiny_sub_pixel + " --seed 6 --threads 2").exit_code == 0);
  CHECK(!diff(load(two), load(other)).tensors.empty());
}

TEST_CASE("train --arch cell_storm: phone-camera codec frames, a ×4 tanh generator that reconstruct reads") {
  const std::string dir = fresh_dir("train_cell_storm");
  const std::string model = dir + "/phone.smlm";
  auto r = run_smlm("train -o " + model +
                    " --arch cell_storm --pixel-nm 80 --sigma-nm 96 --photons 200:1500 --density 1.5 --background 5"
                    " --camera cmos-phone --quality 60:95 --steps 4 --batch 2 --patch 8 --validation-batches 1"
                    " --validate-every 2 --gan-warmup 1 --gan-every 2 --threads 2 -q");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("arch=cell_storm upsample=4 steps=4 ") == 0);
  CHECK(std::isfinite(field(r.output, "loss")));
  CHECK(field(r.output, "adversarial_steps") == 2);  // steps 1 and 3 (0-based): after 1 warm-up step, every 2nd
  // The checkpoints carry the discriminator (weights and Adam state); the model does not.
  const smlm::nn::ModelFile last = load(model + ".last.ckpt");
  CHECK(last.find_tensor("disc.param.0") != nullptr);
  CHECK(last.find_tensor("disc.param.0.m") != nullptr);
  CHECK(load(model).find_tensor("disc.param.0") == nullptr);
  // A resumed run continues the schedule (steps 4, 5: one adversarial) with the saved discriminator.
  auto resumed = run_smlm("train --resume " + model + ".last.ckpt --steps 6 -o " + model + " --threads 2 -q");
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(field(resumed.output, "adversarial_steps") == 1);
  const smlm::nn::ModelFile f = load(model);
  auto info = smlm::deep::read_info(f);
  REQUIRE_MESSAGE(info, (info ? std::string() : info.message()));
  CHECK(info->arch == "cell_storm");
  CHECK(info->upsample == 4);
  CHECK(info->target.spike_value == 1);  // blobs of height 1 for the tanh output
  CHECK(info->camera == "cmos-phone");
  CHECK(info->conditions.quality.lo == 60);
  CHECK(info->gan.adversarial_weight == 3);  // cellSTORM's weights by default
  CHECK(info->gan.generator.l1_weight == 100);
  CHECK(info->gan.warmup_steps == 1);
  CHECK(info->gan.content == smlm::nn::CganContent::l1);  // cellSTORM's L1 by default
  // The model reconstructs a phone-camera stack: a ×4 image.
  const std::string stack = dir + "/phone.tif", out = dir + "/rec";
  REQUIRE(run_smlm("simulate -o " + stack + " --truth " + dir + "/truth.csv --frames 2 --size 16 --pixel-nm 80 --camera cmos-phone --quality 80")
              .exit_code == 0);
  auto rec = run_smlm("reconstruct " + model + " " + stack + " -o " + out + " --threads 2 -q");
  INFO(rec.output);
  REQUIRE(rec.exit_code == 0);
  CHECK(rec.output.find("frames=2 ") == 0);
  auto reader = smlm::io::TiffReader::open(out + "/image.tif");
  REQUIRE(reader);
  CHECK(reader->width() == 64);
}

TEST_CASE("train --arch sub_pixel --gan-weight: Deep-STORM's loss with the adversarial term on blurred maps") {
  const std::string dir = fresh_dir("train_sub_pixel_gan");
  const std::string model = dir + "/gan.smlm";
  auto r = run_smlm("train -o " + model +
                    " --arch sub_pixel --upsample 4 --photons 200:1500 --steps 3 --batch 2 --patch 16 --validation-batches 1"
                    " --validate-every 3 --gan-weight 1 --gan-warmup 1 --threads 2 -q");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(std::isfinite(field(r.output, "loss")));
  CHECK(field(r.output, "adversarial_steps") == 2);  // steps 1 and 2 after one warm-up step
  CHECK(load(model + ".last.ckpt").find_tensor("disc.param.0") != nullptr);
  auto info = smlm::deep::read_info(load(model));
  REQUIRE_MESSAGE(info, (info ? std::string() : info.message()));
  CHECK(info->gan.adversarial_weight == 1);
  CHECK(info->gan.content == smlm::nn::CganContent::blurred_mse);
  CHECK(info->target.spike_value == 100);
  CHECK(info->conditions.photon_spread == 2);  // the CLI's default
}

TEST_CASE("train: bad inputs exit non-zero with one line naming what is wrong and write nothing") {
  // A finished model has no optimizer state: it is not a checkpoint to resume.
  const std::string finished = fresh_dir("train_bad_model") + "/done.smlm";
  REQUIRE(run_smlm("train -o " + finished + tiny_sub_pixel + " --threads 2").exit_code == 0);
  const std::string dir = fresh_dir("train_bad"), model = dir + "/bad.smlm";
  const std::string stack = data_dir + "/thunderstorm_sim_20frames.tif";
  const std::string budget = " --steps 2 --batch 2 --patch 16 --validation-batches 1 --threads 2 -q";
  const std::string base = "train -o " + model + " --arch sub_pixel";
  struct Case {
    std::string args, needle;
  };
  for (const Case& c : {
           Case{base + budget + " --photons 5:1", "--photons"},
           Case{base + budget + " --photons abc", "--photons"},
           Case{base + budget + " --photons 100:", "--photons"},
           Case{base + budget + " --density -1", "--density"},
           Case{base + budget + " --density 2:-1", "--density"},
           Case{base + budget + " --sigma-nm 0", "--sigma-nm"},
           Case{base + budget + " --background -5", "--background"},
           Case{base + budget + " --quality 101", "--quality"},
           Case{base + budget + " --pixel-nm -100", "--pixel-nm"},
           Case{base + " --batch 2 --patch 16 -q", "--steps"},
           Case{base + budget + " --minutes 1", "--minutes"},
           Case{"train -o " + model + " --arch resnet" + budget, "--arch"},
           Case{base + budget + " --camera potato", "--camera"},
           Case{base + budget + " --target blobs", "--target"},
           Case{base + budget + " --target distance --gan-weight 3", "--gan-weight"},  // D judges spike maps
           Case{base + budget + " --content-loss l1", "--content-loss"},  // cellSTORM's L1 needs the tanh output
           Case{base + budget + " --content-loss l2", "--content-loss"},
           Case{base + budget + " --photon-spread 0.5", "--photon-spread"},
           Case{base + budget + " --gan-every 0", "--gan-every"},
           Case{base + budget + " --l1-weight -1", "--l1-weight"},
           Case{base + " --steps 2 --batch 2 --patch 18 -q", "--patch"},
           Case{base + budget + " --resume " + dir + "/missing.last.ckpt", "missing.last.ckpt"},
           Case{base + budget + " --resume " + stack, stack},
           Case{base + budget + " --resume " + finished, finished},
           Case{"train" + budget, "--output"},
           Case{"train -o " + dir + "/no/such/dir/m.smlm" + tiny_sub_pixel + " --threads 2", dir + "/no/such/dir/m.smlm"},
       }) {
    CAPTURE(c.args);
    auto r = run_smlm(c.args);
    CAPTURE(r.output);
    CHECK(r.exit_code != 0);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find(c.needle) != std::string::npos);
    CHECK(files_in(dir).empty());
  }
}
