#include <gtest/gtest.h>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/png.h"
#include "test_util.h"

using namespace gapscope;

TEST(Png, RoundTripAndFlip) {
  auto dir = gapscope::testing::temp_dir("png");
  const int w = 7, h = 5;
  std::vector<std::uint8_t> px(w * h * 4);
  for (int i = 0; i < w * h * 4; ++i) px[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
  const auto path = (dir / "a.png").string();
  write_png(path, w, h, px);
  int rw = 0, rh = 0, ch = 0;
  unsigned char* back = stbi_load(path.c_str(), &rw, &rh, &ch, 4);
  ASSERT_NE(back, nullptr) << stbi_failure_reason();
  EXPECT_EQ(rw, w);
  EXPECT_EQ(rh, h);
  EXPECT_EQ(std::vector<std::uint8_t>(back, back + w * h * 4), px);
  stbi_image_free(back);

  // flip_y writes the last row first
  write_png(path, w, h, px, /*flip_y=*/true);
  back = stbi_load(path.c_str(), &rw, &rh, &ch, 4);
  ASSERT_NE(back, nullptr);
  for (int y = 0; y < h; ++y)
    for (int k = 0; k < w * 4; ++k) ASSERT_EQ(back[y * w * 4 + k], px[(h - 1 - y) * w * 4 + k]);
  stbi_image_free(back);
  std::filesystem::remove_all(dir);
}

TEST(Png, BadInputAndUnwritablePathsThrowNamingTheFile) {
  auto dir = gapscope::testing::temp_dir("png");
  const int w = 4, h = 3;
  const std::vector<std::uint8_t> px(w * h * 4, 200);
  const auto path = (dir / "a.png").string();
  { std::ofstream(path) << "old"; }
  try {
    write_png(path, w, h, std::vector<std::uint8_t>(3));
    FAIL() << "a wrong byte count was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_png(path, 0, h, px.data()), std::invalid_argument);
  EXPECT_EQ(gapscope::testing::slurp(path), "old");

  const auto missing = (dir / "no" / "such" / "dir.png").string();
  try {
    write_png(missing, w, h, px);
    FAIL() << "wrote into a missing folder";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}
