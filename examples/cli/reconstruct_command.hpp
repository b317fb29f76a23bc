// `smlm reconstruct [MODEL.smlm] STACK.tif -o DIR [--threads T] [--camera C]`: runs a trained
// localization network over a TIFF stack, streaming it in batches of frames, and writes
//   DIR/localizations.csv  ThunderSTORM columns (id, frame, x [nm], y [nm], intensity [photon]):
//                          photons from a joint least-squares fit of the raw frame by a background
//                          and one PSF (σ: --sigma-nm, default the middle of the model's training
//                          range) per localization (loc/amplitudes.hpp), divided by --adu-per-photon
//   DIR/image.tif          the sum of the output maps (float32, r times the camera's resolution)
//   DIR/image.png          the same, colour-mapped (0 .. its 99.9th percentile)
//   --maps FILE            (optional) every frame's output map, a float32 TIFF stack
// Without MODEL it uses the shipped default for --camera (default emccd; models_command.hpp).
// --device opencl[:N] runs the network on OpenCL device N (`smlm devices`; compute/network.hpp)
// in builds with smlmkit::compute; the outputs are the CPU's within float rounding.
// Each file is written under a temporary name and renamed when complete. Prints one line:
//   frames=<n> localizations=<n> seconds=<s> frames_per_s=<f> threshold=<t> split=<n>
// (split: peaks that counting by mass made two, deep/decode.hpp; --split-factor 0 turns it off)
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <smlm/deep/decode.hpp>
#include <smlm/deep/model.hpp>
#include <smlm/deep/reconstruct.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/io/png.hpp>
#include <smlm/io/tiff_reader.hpp>
#include <smlm/io/tiff_writer.hpp>
#include <smlm/loc/amplitudes.hpp>
#include <smlm/psf/integrated_gaussian.hpp>
#include <smlm/render/colormap.hpp>

#if defined(SMLM_CLI_WITH_COMPUTE)
#include <smlm/compute/network.hpp>
#endif

#include "cli_common.hpp"
#include "devices_command.hpp"
#include "models_command.hpp"
#include "progress.hpp"

namespace smlm::cli {

struct ReconstructOptions {
  std::vector<std::string> positional;  // [MODEL] STACK
  std::string camera = "emccd";         // picks the shipped model when MODEL is not given
  std::string models_dir;               // empty: models_command.hpp's default
  std::string model, stack, output;
  int threads = 0;
  std::string device = "cpu";
  std::ptrdiff_t batch = 4;
  std::ptrdiff_t tile = 128;
  double threshold = std::nan("");  // NaN: the model's
  double split_factor = std::nan("");  // NaN: the model's; 0: no counting by mass
  double adu_per_photon = 1;
  double sigma_nm = std::nan("");  // NaN: the middle of the model's training range
  std::string maps;  // empty: not written
  bool quiet = false;
  bool summary = true;  // print the summary line (callers that report themselves turn it off)
};

/// Writes through `write(tmp)` to `path` + ".tmp", then renames onto `path`; the temporary file is
/// removed on failure.
template <class F>
void write_atomically(const std::string& path, F&& write) {
  const std::string tmp = path + ".tmp";
  const Status s = std::forward<F>(write)(tmp);
  if (!s.ok()) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw cli_error(s.message());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw cli_error(path + ": cannot rename the finished file into place: " + ec.message());
  }
}

namespace detail {

/// Runs `net` (a CPU network, or a compute::Network on an OpenCL device, whose errors it keeps in
/// status()) over the stack and writes the outputs.
template <class Net>
void reconstruct_on(const ReconstructOptions& o, Net& net, const deep::ModelInfo& info, io::TiffReader& reader) {
  nn::WorkerPool pool(o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  deep::ReconstructOptions ro;
  ro.tile_px = o.tile;
  ro.batch_tiles = o.batch;
  deep::Reconstructor<Net> rec(net, info.normalization, info.upsample, ro, &pool);
  deep::DecodeOptions decode = info.decode;
  if (!std::isnan(o.threshold)) decode.threshold = o.threshold;
  if (!std::isnan(o.split_factor)) {
    if (o.split_factor > 0 && !(decode.single_mass > 0))
      throw CLI::ValidationError("--split-factor", "value " + std::to_string(o.split_factor) + ": " + o.model +
                                                       " was tuned without counting by mass (no single-molecule mass)");
    decode.split_factor = o.split_factor;
  }

  const std::ptrdiff_t h = reader.height(), w = reader.width(), r = info.upsample, frames = reader.frames();
  Image<float> sum = Image<float>::Zero(h * r, w * r);
  std::vector<Image<float>> in(static_cast<std::size_t>(o.batch), Image<float>(h, w));
  std::vector<Image<float>> out(static_cast<std::size_t>(o.batch), Image<float>(h * r, w * r));
  LocalizationTable table;
  deep::MovieDecoder movie(decode, info.conditions.pixel_nm, static_cast<int>(info.upsample));
  const double sigma_nm = std::isnan(o.sigma_nm) ? 0.5 * (info.conditions.sigma_nm.lo + info.conditions.sigma_nm.hi) : o.sigma_nm;
  const psf::IntegratedGaussian<float> psf_model{.sigma_px = static_cast<float>(sigma_nm / info.conditions.pixel_nm)};
  loc::AmplitudeWorkspace<float> amplitude_ws;
  std::vector<double> xs, ys, photons;
  // The per-frame maps stream into a temporary file, renamed when the last frame is in.
  std::optional<io::TiffWriter> map_writer;
  const std::string maps_tmp = o.maps + ".tmp";
  if (!o.maps.empty()) map_writer.emplace(unwrap(io::TiffWriter::create(maps_tmp, io::pixel_type::f32, w * r, h * r, frames)));
  struct RemoveOnThrow {
    const std::string& path;
    bool armed;
    ~RemoveOnThrow() {
      std::error_code ec;
      if (armed) std::filesystem::remove(path, ec);
    }
  } maps_guard{maps_tmp, !o.maps.empty()};
  Progress progress("reconstruct", frames, "frames", o.quiet ? Progress::mode::quiet : Progress::mode::automatic);
  const auto start = std::chrono::steady_clock::now();
  for (std::ptrdiff_t first = 0; first < frames; first += o.batch) {
    const std::ptrdiff_t n = std::min<std::ptrdiff_t>(o.batch, frames - first);
    std::vector<ConstImageView<float>> views;
    std::vector<ImageView<float>> maps;
    for (std::ptrdiff_t j = 0; j < n; ++j) {
      check(reader.read_frame(first + j, in[static_cast<std::size_t>(j)]));
      for (std::ptrdiff_t i = 0; i < in[static_cast<std::size_t>(j)].size(); ++i)
        if (!std::isfinite(in[static_cast<std::size_t>(j)].data()[i]))
          throw cli_error(o.stack + ": frame " + std::to_string(first + j + 1) + " holds a non-finite value");
      views.push_back(const_view(in[static_cast<std::size_t>(j)]));
      maps.push_back(make_view(out[static_cast<std::size_t>(j)]));
    }
    rec.run(views, maps);
    if constexpr (requires { net.status(); }) check(net.status());
    for (std::ptrdiff_t j = 0; j < n; ++j) {
      const auto& m = out[static_cast<std::size_t>(j)];
      sum += m;
      if (map_writer) check(map_writer->write_frame(const_view(m)));
      movie.add(const_view(m), static_cast<std::int32_t>(first + j + 1));
    }
    progress.update(first + n);
  }
  progress.finish();
  // Counting by mass needs the whole movie's blobs (deep/decode.hpp); then the photons of each
  // frame's localizations, the frame read again.
  const std::size_t split = movie.finish(table);
  for (std::size_t b = 0; b < table.size();) {
    std::size_t e = b;
    while (e < table.size() && table.frame[e] == table.frame[b]) ++e;
    Image<float>& frame = in.front();
    check(reader.read_frame(table.frame[b] - 1, frame));
    const std::size_t count = e - b;
    xs.resize(count), ys.resize(count), photons.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      xs[i] = table.x_nm[b + i] / info.conditions.pixel_nm;
      ys[i] = table.y_nm[b + i] / info.conditions.pixel_nm;
    }
    double background = 0;
    loc::estimate_amplitudes(psf_model, const_view(frame), std::span<const double>(xs), std::span<const double>(ys),
                             amplitude_ws, std::span<double>(photons), background);
    for (std::size_t i = 0; i < count; ++i) table.intensity_photons[b + i] = photons[i] / o.adu_per_photon;
    b = e;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (map_writer) {
    check(map_writer->close());
    std::error_code ec;
    std::filesystem::rename(maps_tmp, o.maps, ec);
    if (ec) throw cli_error(o.maps + ": cannot rename the finished file into place: " + ec.message());
    maps_guard.armed = false;
  }
  const std::string dir = o.output + "/";
  write_atomically(dir + "localizations.csv", [&](const std::string& p) { return io::write_localizations_csv(p, table); });
  write_atomically(dir + "image.tif", [&](const std::string& p) -> Status {
    auto writer = io::TiffWriter::create(p, io::pixel_type::f32, w * r, h * r, 1);
    if (!writer) return writer.status();
    SMLM_TRY(writer->write_frame(const_view(sum)));
    return writer->close();
  });
  std::vector<float> sorted(sum.data(), sum.data() + sum.size());
  const auto k = static_cast<std::ptrdiff_t>(0.999 * double(sorted.size() - 1));
  std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end());
  const float hi = std::max(sorted[static_cast<std::size_t>(k)], 1e-12f);
  const auto hot = render::colormap_table(render::colormap::hot);
  std::array<io::Rgb8, 256> lut{};
  for (std::size_t i = 0; i < lut.size(); ++i) lut[i] = {hot[i].r, hot[i].g, hot[i].b};
  write_atomically(dir + "image.png",
                   [&](const std::string& p) { return io::write_png_colormapped(p, const_view(sum), 0.0f, hi, std::span<const io::Rgb8, 256>(lut)); });
  if (!o.summary) return;
  std::printf("frames=%td localizations=%zu seconds=%.3f frames_per_s=%.2f threshold=%.5g split=%zu\n", frames,
              table.size(), seconds, seconds > 0 ? double(frames) / seconds : 0.0, decode.threshold, split);
}

template <class Net>
void reconstruct_with(const ReconstructOptions& o, Net& net, const deep::ModelInfo& info, io::TiffReader& reader) {
  if (const std::optional<int> index = opencl_index(o.device)) {
#if defined(SMLM_CLI_WITH_COMPUTE)
    auto device = compute::open_device(*index);
    if (!device) throw CLI::ValidationError("--device", "value " + o.device + ": " + device.message());
    auto gpu = unwrap(compute::Network<Net>::create(net, *device));
    reconstruct_on(o, gpu, info, reader);
    return;
#endif
  }
  reconstruct_on(o, net, info, reader);
}

}  // namespace detail

inline void run_reconstruct(ReconstructOptions o) {
  if (o.positional.size() == 2) {
    o.model = o.positional[0], o.stack = o.positional[1];
  } else if (o.positional.size() == 1) {
    o.stack = o.positional[0];
    o.model = default_model_for(o.camera, models_dir(o.models_dir));
  }
  const nn::ModelFile file = unwrap(nn::load_model_file(o.model));
  const deep::ModelInfo info = unwrap(deep::read_info(file));
  auto reader = unwrap(io::TiffReader::open(o.stack));
  if (reader.frames() == 0) throw cli_error(o.stack + ": the stack has no frames");
  // The output folder is made before the work, so that one that cannot be made fails at once; a
  // folder made here is removed again (when still empty) if the reconstruction fails.
  std::error_code ec;
  const bool existed = std::filesystem::is_directory(o.output, ec);
  if (!existed && !std::filesystem::create_directories(o.output, ec) && ec)
    throw cli_error(o.output + ": cannot create the output directory: " + ec.message());
  try {
    check(deep::with_network(info.arch, info.upsample, [&](auto& net) -> Status {
      SMLM_TRY(deep::load_weights(file, info, net));
      detail::reconstruct_with(o, net, info, reader);
      return {};
    }));
  } catch (...) {
    if (!existed) std::filesystem::remove(o.output, ec);
    throw;
  }
}

inline void register_reconstruct(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("reconstruct", "localize the molecules of a TIFF stack with a trained network");
  auto opt = std::make_shared<ReconstructOptions>();
  cmd->add_option("MODEL_STACK", opt->positional,
                  "[MODEL] STACK: model file (smlm train; default: the shipped model for --camera) and TIFF stack")
      ->required()
      ->expected(1, 2)
      ->check(CLI::ExistingFile);
  cmd->add_option("--camera", opt->camera, "without MODEL: the camera whose shipped model to use (smlm models)")
      ->capture_default_str()
      ->check(CLI::IsMember({"ideal", "emccd", "scmos", "cmos-phone"}));
  cmd->add_option("--models-dir", opt->models_dir, "folder of the shipped models (default: $SMLM_MODELS, else models/)");
  cmd->add_option("-o,--output", opt->output, "output directory")->required();
  cmd->add_option("--threads", opt->threads, "threads (0: all)")->capture_default_str()->check(CLI::Range(0, 256));
  cmd->add_option("--device", opt->device,
                  "cpu, or opencl[:N] for OpenCL device N of smlm devices (with the optional compute target)")
      ->capture_default_str()
      ->check(device_flag_error);
  cmd->add_option("--batch", opt->batch, "tiles per forward pass")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--tile", opt->tile, "largest tile side, camera pixels")->capture_default_str()->check(CLI::Range(8, 4096));
  cmd->add_option("--threshold", opt->threshold, "detection threshold (default: the model's)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--split-factor", opt->split_factor,
                  "a blob above this many single-molecule masses is two molecules; 0: never (default: the model's)")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--adu-per-photon", opt->adu_per_photon, "camera counts per photon, for the intensity column")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sigma-nm", opt->sigma_nm, "PSF sd for the photon fit (default: the model's training range, middle)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--maps", opt->maps, "also write every frame's output map to this float32 TIFF stack");
  cmd->add_flag("-q,--quiet", opt->quiet, "no progress output");
  cmd->callback([opt, &exit_code] {
    run_reconstruct(*opt);
    exit_code = 0;
  });
}

}  // namespace smlm::cli
