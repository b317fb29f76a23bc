// smlm::nn — the network engine: tensors, the autodiff tape, ops, layers, losses, optimizers.
//
// Not part of <smlm/smlm.hpp>: include this header (or the single headers) to use it. The layer
// concept nn::Layer and its contract are declared in layer.hpp; docs/nn.md is the guide. The
// hosted-only edges are separate headers: trainer.hpp (the training loop, <thread>) and
// model_file.hpp (model files, <fstream>).
#pragma once

#include <smlm/nn/arena.hpp>
#include <smlm/nn/cgan.hpp>
#include <smlm/nn/conv2d.hpp>
#include <smlm/nn/elementwise.hpp>
#include <smlm/nn/init.hpp>
#include <smlm/nn/layer.hpp>
#include <smlm/nn/loss.hpp>
#include <smlm/nn/norm.hpp>
#include <smlm/nn/normalization.hpp>
#include <smlm/nn/optimizer.hpp>
#include <smlm/nn/patchgan.hpp>
#include <smlm/nn/pool.hpp>
#include <smlm/nn/resample.hpp>
#include <smlm/nn/schedule.hpp>
#include <smlm/nn/tape.hpp>
#include <smlm/nn/tensor.hpp>
#include <smlm/nn/unet.hpp>
#include <smlm/nn/worker_pool.hpp>
