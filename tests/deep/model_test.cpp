// model.hpp: a model file round trip gives bit-identical outputs and the same info; another
// preset's file, a file whose configuration differs, or one missing a key is refused by name.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include <smlm/deep/model.hpp>
#include <smlm/deep/reconstruct.hpp>

using namespace smlm;

namespace {
std::string tmp(const char* name) { return std::string(SMLM_TEST_TMP_DIR) + "/" + name; }

template <class Net>
Image<float> output_of(Net& net, const nn::InputNormalization& norm, int r) {
  Image<float> frame(16, 16);
  for (std::ptrdiff_t i = 0; i < frame.size(); ++i) frame.data()[i] = float((i * 37) % 101);
  deep::Reconstructor<Net> rec(net, norm, r);
  Image<float> out(16 * r, 16 * r);
  const ConstImageView<float> in[1] = {const_view(frame)};
  const ImageView<float> maps[1] = {make_view(out)};
  rec.run(in, maps);
  return out;
}

deep::ModelInfo example_info() {
  deep::ModelInfo info;
  info.arch = "sub_pixel";
  info.upsample = 4;
  info.normalization = {0.99, 0.25, 1.5};
  info.conditions.sigma_nm = {100, 120};
  info.conditions.quality = {60, 90};
  info.camera = "emccd";
  info.target.kind = sim::TargetKind::distance;
  info.decode = deep::DecodeOptions::for_upsample(4);
  info.decode.threshold = 2.5;
  info.decode.split_factor = 1.5;
  info.decode.single_mass = 40.5;
  info.decode.single_var_px2 = 1.75;
  info.gan.adversarial_weight = 3;
  info.gan.generator.sparsity_weight = 10;
  info.gan.warmup_steps = 7;
  info.conditions.quality = {60, 95};
  info.conditions.codec_gop_frames = 8;
  info.conditions.codec_grid_offset = true;
  info.conditions.photon_spread = 1.5;
  info.validation_jaccard = 0.75;
  info.training.step = 123;
  info.budget.minutes = 30;
  info.command = "smlm train -o x";
  return info;
}
}  // namespace

TEST_CASE("model files: save then load gives bit-identical outputs and the same info") {
  const deep::ModelInfo info = example_info();
  nn::SubPixel net(4);
  net.init(8);
  for_each_buffer(net, [](nn::Tensor<float>& b) { for (auto& v : b) v += 0.125f; });  // non-trivial running statistics
  const std::string path = tmp("model_roundtrip.smlm");
  REQUIRE(deep::save_model(path, info, net).ok());
  const auto file = nn::load_model_file(path);
  REQUIRE(file);
  const auto back = deep::read_info(*file);
  REQUIRE(back);
  CHECK(back->arch == "sub_pixel");
  CHECK(back->upsample == 4);
  CHECK(back->normalization.mean == 0.25);
  CHECK(back->conditions.sigma_nm.hi == 120);
  CHECK(back->conditions.quality.lo == 60);
  CHECK(back->camera == "emccd");
  CHECK(back->target.kind == sim::TargetKind::distance);
  CHECK(back->decode.threshold == 2.5);
  CHECK(back->decode.split_factor == 1.5);
  CHECK(back->decode.single_mass == 40.5);
  CHECK(back->decode.single_var_px2 == 1.75);
  CHECK(back->gan.adversarial_weight == 3);
  CHECK(back->gan.generator.sparsity_weight == 10);
  CHECK(back->gan.warmup_steps == 7);
  CHECK(back->gan.every == 1);
  CHECK(back->conditions.codec_gop_frames == 8);
  CHECK(back->conditions.codec_grid_offset);
  CHECK(!back->conditions.codec_deblock);
  CHECK(back->conditions.photon_spread == 1.5);
  CHECK(back->decode.count_radius_px == 4);
  CHECK(back->training.step == 123);
  CHECK(back->budget.minutes == 30);
  CHECK(back->command == "smlm train -o x");
  nn::SubPixel loaded(4);
  loaded.init(99);
  REQUIRE(deep::load_weights(*file, *back, loaded).ok());
  const Image<float> a = output_of(net, info.normalization, 4), b = output_of(loaded, back->normalization, 4);
  CHECK((a == b).all());
}

TEST_CASE("model files: another architecture, a changed configuration, a missing key") {
  const deep::ModelInfo info = example_info();
  nn::SubPixel net(4);
  net.init(1);
  nn::ModelFile file;
  deep::store_info<nn::SubPixel>(info, file);
  nn::store_network(net, file);
  file.source = "m.smlm";
  // Loading a sub_pixel file into Deep-STORM's network: the configuration check names both.
  nn::DeepStorm other(4);
  const Status wrong = deep::load_weights(file, info, other);
  REQUIRE(!wrong.ok());
  CHECK(wrong.message().find("configuration") != std::string::npos);
  // A stored configuration that differs from this build's preset of that name.
  nn::ModelFile changed = file;
  auto numbers = *changed.get_doubles("arch.config");
  numbers[1] += 1;  // widths[0]
  changed.set("arch.config", numbers);
  CHECK(!deep::load_weights(changed, info, net).ok());
  // A missing key is named.
  nn::ModelFile missing = file;
  std::erase_if(missing.metadata, [](const nn::MetaEntry& e) { return e.key == "norm.sd"; });
  const auto r = deep::read_info(missing);
  REQUIRE(!r);
  CHECK(r.message().find("norm.sd") != std::string::npos);
  // Values out of range are refused.
  nn::ModelFile bad = file;
  bad.set("upsample", std::int64_t(0));
  CHECK(!deep::read_info(bad));
  nn::ModelFile bad_spread = file;
  bad_spread.set("cond.photon_spread", 0.5);
  const auto bs = deep::read_info(bad_spread);
  REQUIRE(!bs);
  CHECK(bs.message().find("photon_spread = 0.5") != std::string::npos);
  // A file written before counting by mass existed (no decode.split_* keys) decodes without it.
  nn::ModelFile older = file;
  std::erase_if(older.metadata, [](const nn::MetaEntry& e) { return e.key.starts_with("decode.split") || e.key.starts_with("decode.single") || e.key.starts_with("gan.") || e.key.starts_with("cond.codec_") || e.key == "cond.photon_spread" ||
                                          e.key == "decode.count_radius_px"; });
  const auto old_info = deep::read_info(older);
  REQUIRE(old_info);
  CHECK(old_info->decode.split_factor == 0);
  CHECK(old_info->gan.adversarial_weight == 0);  // and no discriminator
  CHECK(old_info->conditions.codec_gop_frames == 1);  // aligned I-frames
  CHECK(!old_info->conditions.codec_grid_offset);
  CHECK(old_info->conditions.photon_spread == 0);  // independent emitters
  // A cGAN schedule that cannot run is refused.
  nn::ModelFile bad_gan = file;
  bad_gan.set("gan.every", std::int64_t(0));
  const auto bg = deep::read_info(bad_gan);
  REQUIRE(!bg);
  CHECK(bg.message().find("every = 0") != std::string::npos);
  CHECK(old_info->decode.count_radius_px == 4);
  // A negative split factor, splitting without a single-molecule mass or a zero counting radius
  // is refused by name.
  nn::ModelFile negative = file;
  negative.set("decode.split_factor", -1.0);
  const auto neg = deep::read_info(negative);
  REQUIRE(!neg);
  CHECK(neg.message().find("split factor -1") != std::string::npos);
  nn::ModelFile no_unit = file;
  no_unit.set("decode.single_mass", 0.0);
  const auto nu = deep::read_info(no_unit);
  REQUIRE(!nu);
  CHECK(nu.message().find("single-molecule mass 0") != std::string::npos);
  nn::ModelFile no_radius = file;
  no_radius.set("decode.count_radius_px", std::int64_t(0));
  const auto nr = deep::read_info(no_radius);
  REQUIRE(!nr);
  CHECK(nr.message().find("decode.count_radius_px 0") != std::string::npos);
  // An unknown architecture name.
  CHECK(!deep::with_network("resnet", 4, [](auto&) { return Status{}; }).ok());
}
