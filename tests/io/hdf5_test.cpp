// Picasso HDF5 (io/hdf5.hpp): round trips through /locs and the YAML sidecar, Picasso's field
// names, dtypes and pixel/frame conventions as seen through the raw HDF5 API, and one-line errors
// for bad inputs. Compiles to nothing without smlmkit::hdf5.
#if defined(SMLM_IO_TESTS_WITH_HDF5)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <hdf5.h>

#include <smlm/io/csv.hpp>
#include <smlm/io/hdf5.hpp>

namespace {

using smlm::errc;
using smlm::LocalizationTable;
using smlm::io::PicassoMetadata;
using smlm::io::read_picasso_hdf5;
using smlm::io::write_picasso_hdf5;

std::string h5_path(const std::string& name) { return std::string(SMLM_TEST_TMP_DIR) + "/hdf5_test_" + name; }
std::string yaml_of(const std::string& hdf5) { return std::filesystem::path(hdf5).replace_extension(".yaml").string(); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}
void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}
void remove_both(const std::string& hdf5) {
  std::filesystem::remove(hdf5);
  std::filesystem::remove(yaml_of(hdf5));
}

/// Every column Picasso has a place for, with values that are exact in float32 where it matters.
LocalizationTable full_table() {
  LocalizationTable t;
  for (int i = 0; i < 200; ++i) {
    t.id.push_back(100 + i);
    t.frame.push_back(1 + i / 10);
    t.x_nm.push_back(37.5 + 31.25 * i);
    t.y_nm.push_back(6399.0 - 29.5 * i);
    t.z_nm.push_back(-300.0 + 3.0 * i);
    t.sigma_nm.push_back(110.0 + 0.25 * i);
    t.intensity_photons.push_back(500.0 + 17.0 * i);
    t.offset_photons.push_back(10.0 + 0.5 * i);
    t.bkgstd_photons.push_back(3.0);
    t.uncertainty_xy_nm.push_back(5.0 + 0.125 * i);
  }
  return t;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double tolerance) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(got[i] - want[i]) <= tolerance * std::max(1.0, std::abs(want[i])));
  }
}

/// HDF5 helpers for building files by hand (handles closed at scope end).
struct H5 {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H5() {
    if (id >= 0) close(id);
  }
};

/// Writes /locs with the named fields stored as `file_type` each, values given per row as doubles.
void write_raw_locs(const std::string& path, const std::vector<std::string>& names, hid_t file_type,
                    const std::vector<std::vector<double>>& rows, const char* dataset_name = "locs") {
  const H5 file{H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
  REQUIRE(file.id >= 0);
  const std::size_t file_size = H5Tget_size(file_type);
  const H5 ftype{H5Tcreate(H5T_COMPOUND, file_size * names.size()), H5Tclose};
  const H5 mtype{H5Tcreate(H5T_COMPOUND, sizeof(double) * names.size()), H5Tclose};
  for (std::size_t k = 0; k < names.size(); ++k) {
    REQUIRE(H5Tinsert(ftype.id, names[k].c_str(), k * file_size, file_type) >= 0);
    REQUIRE(H5Tinsert(mtype.id, names[k].c_str(), k * sizeof(double), H5T_NATIVE_DOUBLE) >= 0);
  }
  std::vector<double> flat;
  for (const auto& row : rows) flat.insert(flat.end(), row.begin(), row.end());
  const hsize_t n = rows.size();
  const H5 space{H5Screate_simple(1, &n, nullptr), H5Sclose};
  const H5 dataset{H5Dcreate2(file.id, dataset_name, ftype.id, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose};
  REQUIRE(dataset.id >= 0);
  REQUIRE(H5Dwrite(dataset.id, mtype.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, flat.data()) >= 0);
}

}  // namespace

TEST_CASE("picasso hdf5: the reference CSV round-trips through HDF5 within float32 precision") {
  const std::string csv = std::string(SMLM_SHARED_DATA_DIR) + "/thunderstorm_sim_20frames_positions.csv";
  const LocalizationTable in = smlm::io::read_localizations_csv(csv).value();
  REQUIRE(in.size() > 0);
  const std::string path = h5_path("reference.hdf5");
  remove_both(path);
  REQUIRE(write_picasso_hdf5(path, in, PicassoMetadata{64, 64, 100.0, 0}).ok());
  const LocalizationTable out = read_picasso_hdf5(path).value();
  CHECK(out.frame == in.frame);
  const double float_rel = 2e-7;
  check_close(out.x_nm, in.x_nm, float_rel * 64);  // float32 resolves ~64 px * 6e-8
  check_close(out.y_nm, in.y_nm, float_rel * 64);
  check_close(out.sigma_nm, in.sigma_nm, float_rel);
  check_close(out.intensity_photons, in.intensity_photons, float_rel);
  check_close(out.offset_photons, in.offset_photons, float_rel);
  CHECK(out.id.empty());              // Picasso has no id: the CSV writer numbers rows
  CHECK(out.bkgstd_photons.empty());  // nor a background standard deviation
  const PicassoMetadata meta = smlm::io::read_picasso_metadata(path).value();
  CHECK(meta.width == 64);
  CHECK(meta.height == 64);
  CHECK(meta.pixel_nm == 100.0);
  CHECK(meta.frames == *std::max_element(in.frame.begin(), in.frame.end()));
}

TEST_CASE("picasso hdf5: every mapped column round-trips, and the YAML holds Picasso's keys") {
  const LocalizationTable in = full_table();
  const std::string path = h5_path("full.h5");
  remove_both(path);
  REQUIRE(write_picasso_hdf5(path, in, PicassoMetadata{80, 70, 130.0, 500}).ok());
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));
  CHECK_FALSE(std::filesystem::exists(yaml_of(path) + ".partial"));
  const LocalizationTable out = read_picasso_hdf5(path).value();
  CHECK(out.frame == in.frame);
  check_close(out.x_nm, in.x_nm, 1e-6);
  check_close(out.y_nm, in.y_nm, 1e-6);
  check_close(out.z_nm, in.z_nm, 1e-6);
  check_close(out.sigma_nm, in.sigma_nm, 1e-6);
  check_close(out.intensity_photons, in.intensity_photons, 1e-6);
  check_close(out.offset_photons, in.offset_photons, 1e-6);
  check_close(out.uncertainty_xy_nm, in.uncertainty_xy_nm, 1e-6);
  CHECK(out.consistent());

  const std::string yaml = read_text(yaml_of(path));
  for (const char* line : {"Width: 80\n", "Height: 70\n", "Frames: 500\n", "Pixelsize: 130.0\n",
                           "Generated by: smlmkit "}) {
    CAPTURE(line);
    CHECK(yaml.find(line) != std::string::npos);
  }
}

TEST_CASE("picasso hdf5: field names, dtypes and conventions as Picasso's reader sees them") {
  LocalizationTable t;
  t.frame = {1, 3};
  t.x_nm = {150.0, 20.0};  // pixel 1's centre (1.5 px here) is Picasso's x = 1
  t.y_nm = {50.0, 1000.0};
  t.z_nm = {0.0, 0.0};  // all zero: no z field (it would make Picasso treat the data as 3D)
  t.intensity_photons = {1000.0, 2000.0};
  const std::string path = h5_path("raw.hdf5");
  remove_both(path);
  REQUIRE(write_picasso_hdf5(path, t, PicassoMetadata{16, 16, 100.0, 0}).ok());

  const H5 file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  REQUIRE(file.id >= 0);
  const H5 dataset{H5Dopen2(file.id, "/locs", H5P_DEFAULT), H5Dclose};
  REQUIRE(dataset.id >= 0);
  const H5 type{H5Dget_type(dataset.id), H5Tclose};
  REQUIRE(H5Tget_class(type.id) == H5T_COMPOUND);
  const std::vector<std::string> names{"frame", "x", "y", "photons", "sx", "sy", "bg", "lpx", "lpy"};
  REQUIRE(H5Tget_nmembers(type.id) == static_cast<int>(names.size()));
  CHECK(H5Tget_size(type.id) == 4 * names.size());  // packed, as numpy writes a record array
  for (unsigned k = 0; k < names.size(); ++k) {
    char* name = H5Tget_member_name(type.id, k);
    CHECK(std::string(name) == names[k]);
    H5free_memory(name);
    const H5 member{H5Tget_member_type(type.id, k), H5Tclose};
    CHECK(H5Tequal(member.id, k == 0 ? H5T_STD_U32LE : H5T_IEEE_F32LE) > 0);
  }
  struct Row {
    std::uint32_t frame;
    float x, y, photons, sx, sy, bg, lpx, lpy;
  };
  const H5 mtype{H5Tcreate(H5T_COMPOUND, sizeof(Row)), H5Tclose};
  H5Tinsert(mtype.id, "frame", HOFFSET(Row, frame), H5T_NATIVE_UINT32);
  H5Tinsert(mtype.id, "x", HOFFSET(Row, x), H5T_NATIVE_FLOAT);
  H5Tinsert(mtype.id, "y", HOFFSET(Row, y), H5T_NATIVE_FLOAT);
  H5Tinsert(mtype.id, "photons", HOFFSET(Row, photons), H5T_NATIVE_FLOAT);
  H5Tinsert(mtype.id, "lpx", HOFFSET(Row, lpx), H5T_NATIVE_FLOAT);
  Row rows[2] = {};
  REQUIRE(H5Dread(dataset.id, mtype.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
  CHECK(rows[0].frame == 0);  // 1-based → 0-based
  CHECK(rows[1].frame == 2);
  CHECK(rows[0].x == 1.0f);  // x_nm / pixel - 0.5
  CHECK(rows[0].y == 0.0f);
  CHECK(rows[1].x == doctest::Approx(-0.3));
  CHECK(rows[1].y == 9.5f);
  CHECK(rows[1].photons == 2000.0f);
  CHECK(rows[0].lpx == 0.0f);  // absent column: 0 (Picasso refuses NaN)

  SUBCASE("a non-zero z column adds the field z (nm)") {
    t.z_nm = {-120.0, 80.0};
    REQUIRE(write_picasso_hdf5(path, t, PicassoMetadata{16, 16, 100.0, 0}).ok());
    const H5 file3{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
    const H5 dataset3{H5Dopen2(file3.id, "/locs", H5P_DEFAULT), H5Dclose};
    const H5 type3{H5Dget_type(dataset3.id), H5Tclose};
    CHECK(H5Tget_nmembers(type3.id) == 10);
    CHECK(H5Tget_member_index(type3.id, "z") == 9);
    const LocalizationTable back = read_picasso_hdf5(path).value();
    CHECK(back.z_nm == std::vector<double>{-120.0, 80.0});
    CHECK(back.intensity_photons == std::vector<double>{1000.0, 2000.0});
    CHECK(back.offset_photons == std::vector<double>{0.0, 0.0});  // a background of 0 is a value
    CHECK(back.sigma_nm.empty());           // written as 0 for want of a column: read as absent
    CHECK(back.uncertainty_xy_nm.empty());
  }
}

TEST_CASE("picasso hdf5: files written by others: any numeric dtype, extra fields, YAML with several documents") {
  const std::string path = h5_path("foreign.hdf5");
  remove_both(path);
  // float64 everywhere (frame too), fields in another order, with fields we do not map.
  write_raw_locs(path, {"x", "net_gradient", "frame", "y", "lpx", "lpy", "group"}, H5T_IEEE_F64BE,
                 {{2.0, 5.0, 0.0, 3.0, 0.1, 0.3, 7.0}, {10.25, 1.0, 41.0, 0.5, 0.2, 0.2, 7.0}});
  write_text(yaml_of(path),
             "Byte Order: <\nData Type: uint16\nFile: movie.raw\nFrames: 1000\nHeight: 32\n"
             "Micro-Manager Metadata:\n  Camera: Andor\n  Binning: 1\nWidth: 32\n"
             "---\nBox Size: 7\nGenerated by: Picasso Localize\nPixelsize: 130\n"
             "---\nGenerated by: Picasso Render\nPixelsize: 99\n");
  const LocalizationTable t = read_picasso_hdf5(path).value();
  CHECK(t.frame == std::vector<std::int32_t>{1, 42});
  check_close(t.x_nm, {2.5 * 130, 10.75 * 130}, 1e-12);
  check_close(t.y_nm, {3.5 * 130, 1.0 * 130}, 1e-12);
  check_close(t.uncertainty_xy_nm, {0.2 * 130, 0.2 * 130}, 1e-12);
  CHECK(t.sigma_nm.empty());
  CHECK(t.intensity_photons.empty());
  CHECK(t.consistent());
  const PicassoMetadata meta = smlm::io::read_picasso_metadata(path).value();
  CHECK(meta.width == 32);
  CHECK(meta.frames == 1000);
  CHECK(meta.pixel_nm == 130.0);  // the first occurrence

  SUBCASE("without a YAML, the fallback pixel size") {
    std::filesystem::remove(yaml_of(path));
    const LocalizationTable f = read_picasso_hdf5(path, 100.0).value();
    check_close(f.x_nm, {250.0, 1075.0}, 1e-12);
  }
}

TEST_CASE("picasso hdf5: bad inputs fail with one line naming the file and what is wrong") {
  auto check_error = [](const std::string& path, double fallback, const std::vector<std::string>& fragments,
                        errc code) {
    const auto r = read_picasso_hdf5(path, fallback);
    REQUIRE_FALSE(r.has_value());
    CAPTURE(r.message());
    CHECK(r.status().code() == code);
    CHECK(r.message().find('\n') == std::string::npos);
    for (const auto& fragment : fragments) CHECK(r.message().find(fragment) != std::string::npos);
  };

  const std::string missing = h5_path("missing.hdf5");
  remove_both(missing);
  check_error(missing, 100, {missing, "no such file"}, errc::io_error);

  const std::string text = h5_path("text.hdf5");
  remove_both(text);
  write_text(text, "\"frame\",\"x [nm]\",\"y [nm]\"\n1,2,3\n");
  check_error(text, 100, {text, "not an HDF5 file"}, errc::format_error);

  const std::string no_locs = h5_path("no_locs.hdf5");
  remove_both(no_locs);
  write_raw_locs(no_locs, {"frame", "x", "y"}, H5T_IEEE_F32LE, {{0, 1, 1}}, "groups");
  check_error(no_locs, 100, {no_locs, "/locs"}, errc::format_error);

  const std::string no_x = h5_path("no_x.hdf5");
  remove_both(no_x);
  write_raw_locs(no_x, {"frame", "y", "photons"}, H5T_IEEE_F32LE, {{0, 1, 1}});
  check_error(no_x, 100, {no_x, "no field \"x\""}, errc::format_error);

  const std::string nan_y = h5_path("nan_y.hdf5");
  remove_both(nan_y);
  write_raw_locs(nan_y, {"frame", "x", "y"}, H5T_IEEE_F32LE, {{0, 1, 1}, {0, 1, std::nan("")}});
  check_error(nan_y, 100, {nan_y, "row 1", "field \"y\""}, errc::format_error);

  const std::string bad_frame = h5_path("bad_frame.hdf5");
  remove_both(bad_frame);
  write_raw_locs(bad_frame, {"frame", "x", "y"}, H5T_IEEE_F32LE, {{-1, 1, 1}});
  check_error(bad_frame, 100, {bad_frame, "row 0", "field \"frame\""}, errc::format_error);

  SUBCASE("a field that is not a number") {
    const std::string path = h5_path("string_x.hdf5");
    remove_both(path);
    struct Row {
      std::uint32_t frame;
      char x[8];
      float y;
    };
    const H5 file{H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
    const H5 str{H5Tcopy(H5T_C_S1), H5Tclose};
    H5Tset_size(str.id, 8);
    const H5 type{H5Tcreate(H5T_COMPOUND, sizeof(Row)), H5Tclose};
    H5Tinsert(type.id, "frame", HOFFSET(Row, frame), H5T_NATIVE_UINT32);
    H5Tinsert(type.id, "x", HOFFSET(Row, x), str.id);
    H5Tinsert(type.id, "y", HOFFSET(Row, y), H5T_NATIVE_FLOAT);
    const hsize_t n = 1;
    const H5 space{H5Screate_simple(1, &n, nullptr), H5Sclose};
    {
      const H5 dataset{H5Dcreate2(file.id, "locs", type.id, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       H5Dclose};
      const Row row{0, "1.5", 2.0f};
      REQUIRE(H5Dwrite(dataset.id, type.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, &row) >= 0);
    }
    H5Fflush(file.id, H5F_SCOPE_GLOBAL);
    check_error(path, 100, {path, "field \"x\"", "not a number"}, errc::format_error);
  }

  SUBCASE("the pixel size: from the YAML, else the fallback, else an error naming both") {
    const std::string path = h5_path("no_yaml.hdf5");
    remove_both(path);
    write_raw_locs(path, {"frame", "x", "y"}, H5T_IEEE_F32LE, {{0, 1, 1}});
    check_error(path, 0, {path, yaml_of(path), "Pixelsize"}, errc::invalid_argument);
    CHECK(read_picasso_hdf5(path, 160).has_value());
    write_text(yaml_of(path), "Width: 32\nHeight: 32\nFrames: 10\n");
    check_error(path, 0, {path, "Pixelsize"}, errc::invalid_argument);
    CHECK(read_picasso_hdf5(path, 160).has_value());
    write_text(yaml_of(path), "Width: 32\nthis is not yaml\n");
    check_error(path, 160, {yaml_of(path), "line 2"}, errc::format_error);
    write_text(yaml_of(path), "Width: 32\nPixelsize: wide\n");
    check_error(path, 160, {yaml_of(path), "line 2", "Pixelsize", "wide"}, errc::format_error);
    write_text(yaml_of(path), "Width: -3\nPixelsize: 100\n");
    check_error(path, 160, {yaml_of(path), "line 1", "Width"}, errc::format_error);
  }
}

TEST_CASE("picasso hdf5: tables and metadata that cannot be written are refused before writing") {
  const std::string path = h5_path("refused.hdf5");
  remove_both(path);
  const LocalizationTable good = full_table();
  auto refused = [&](const LocalizationTable& t, const PicassoMetadata& m, const std::string& fragment) {
    const smlm::Status s = write_picasso_hdf5(path, t, m);
    CAPTURE(s.message());
    CHECK(s.code() == errc::invalid_argument);
    CHECK(s.message().find(path) != std::string::npos);
    CHECK(s.message().find(fragment) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK_FALSE(std::filesystem::exists(yaml_of(path)));
  };
  refused(good, PicassoMetadata{64, 64, 0.0, 0}, "pixel size");
  refused(good, PicassoMetadata{0, 64, 100.0, 0}, "Width");
  LocalizationTable bad = good;
  bad.x_nm[7] = std::nan("");
  refused(bad, PicassoMetadata{64, 64, 100.0, 0}, "row 7");
  bad = good;
  bad.frame[3] = 0;
  refused(bad, PicassoMetadata{64, 64, 100.0, 0}, "row 3");
  bad = good;
  bad.sigma_nm.pop_back();
  refused(bad, PicassoMetadata{64, 64, 100.0, 0}, "inconsistent");

  const std::string empty = h5_path("empty.hdf5");
  remove_both(empty);
  REQUIRE(write_picasso_hdf5(empty, LocalizationTable{}, PicassoMetadata{8, 8, 100.0, 0}).ok());
  const auto back = read_picasso_hdf5(empty);
  REQUIRE(back.has_value());
  CHECK(back->empty());
}
#endif  // SMLM_IO_TESTS_WITH_HDF5
