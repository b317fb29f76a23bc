// Reconstructing a movie with a trained network: the model file names its preset and carries the
// input normalization, the imaging conditions and the decoding it was tuned with, so a model from
// guide_train_network, `smlm train` or models/ all load the same way.
//
//   guide_reconstruct_movie [MODEL.smlm] [STACK.tif] [OUT.csv] [TRUTH.csv]
//
// Defaults: the shipped models/sub_pixel_emccd.smlm, the ThunderSTORM reference stack of
// ../shared/data (with its ground truth), localizations.csv. With a ground truth it also prints
// the Jaccard index and RMSE at 100 nm.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include <smlm/deep/decode.hpp>
#include <smlm/deep/model.hpp>
#include <smlm/deep/reconstruct.hpp>
#include <smlm/eval/detection_metrics.hpp>
#include <smlm/eval/match.hpp>
#include <smlm/io/csv.hpp>
#include <smlm/io/tiff.hpp>

// Frame by frame: the network's output map (upsample × finer than the camera), then its peaks.
// The MovieDecoder keeps the peaks until finish(), because counting by mass (two molecules in one
// blob) measures a single molecule's output on the whole movie.
template <class Net>
smlm::Status reconstruct(Net& net, const smlm::deep::ModelInfo& info, smlm::io::TiffReader& reader,
                         smlm::LocalizationTable& table) {
  smlm::nn::WorkerPool pool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  smlm::deep::Reconstructor<Net> reconstructor(net, info.normalization, info.upsample, {}, &pool);
  smlm::deep::MovieDecoder decoder(info.decode, info.conditions.pixel_nm, info.upsample);
  smlm::Image<float> frame, map(reader.height() * info.upsample, reader.width() * info.upsample);
  for (std::ptrdiff_t f = 0; f < reader.frames(); ++f) {
    SMLM_TRY(reader.read_frame(f, frame));  // any pixel type; converted to float
    const smlm::ConstImageView<float> frames[] = {smlm::const_view(frame)};
    const smlm::ImageView<float> maps[] = {smlm::make_view(map)};
    reconstructor.run(frames, maps);
    decoder.add(smlm::const_view(map), static_cast<std::int32_t>(f + 1));
  }
  decoder.finish(table);
  // The intensity column holds each peak's output mass, not photons (`smlm reconstruct` fits
  // them with loc::estimate_amplitudes); leave it out of the file.
  table.intensity_photons.clear();
  return {};
}

// One line on stderr naming what failed, and the exit status for it.
int fail(const std::string& message) {
  std::fprintf(stderr, "reconstruct_movie: %s\n", message.c_str());
  return 1;
}

int main(int argc, char** argv) {
  const std::string default_stack = SMLM_GUIDE_DATA_DIR "/thunderstorm_sim_20frames.tif";
  const std::string model_path = argc > 1 ? argv[1] : SMLM_GUIDE_MODELS_DIR "/sub_pixel_emccd.smlm";
  const std::string stack_path = argc > 2 ? argv[2] : default_stack;
  const std::string output = argc > 3 ? argv[3] : "localizations.csv";
  const std::string default_truth = SMLM_GUIDE_DATA_DIR "/thunderstorm_sim_20frames_positions.csv";
  const std::string truth_path = argc > 4 ? argv[4] : (stack_path == default_stack ? default_truth : "");

  auto file = smlm::nn::load_model_file(model_path);
  if (!file) return fail(file.message());
  auto info = smlm::deep::read_info(*file);
  if (!info) return fail(info.message());
  auto reader = smlm::io::TiffReader::open(stack_path);  // streams: one frame in memory at a time
  if (!reader) return fail(reader.message());
  std::printf("model %s: %s x%d, trained for %g nm pixels, sigma %g-%g nm\n", model_path.c_str(), info->arch.c_str(),
              info->upsample, info->conditions.pixel_nm, info->conditions.sigma_nm.lo, info->conditions.sigma_nm.hi);

  // A preset is a compile-time type: with_network builds the one the file names, and load_weights
  // refuses weights stored for another configuration of it.
  smlm::LocalizationTable table;
  const smlm::Status done = smlm::deep::with_network(info->arch, info->upsample, [&](auto& net) -> smlm::Status {
    SMLM_TRY(smlm::deep::load_weights(*file, *info, net));
    return reconstruct(net, *info, *reader, table);
  });
  if (!done.ok()) return fail(done.message());
  if (auto s = smlm::io::write_localizations_csv(output, table); !s.ok()) return fail(s.message());
  std::printf("frames=%td localizations=%zu -> %s\n", reader->frames(), table.size(), output.c_str());

  if (truth_path.empty()) return 0;
  auto truth = smlm::io::read_localizations_csv(truth_path);
  if (!truth) return fail(truth.message());
  const smlm::eval::DetectionMetrics m =
      smlm::eval::detection_metrics(smlm::eval::match(*truth, table, {.tolerance_nm = 100}));
  std::printf("tolerance 100 nm: jaccard=%.3f precision=%.3f recall=%.3f rmse_nm=%.1f\n", m.jaccard, m.precision,
              m.recall, m.rmse_lateral_nm);
  return 0;
}
