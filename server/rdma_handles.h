// Owning handles for rdma_cm and verbs objects: each is freed by its own
// destroy call when the handle goes out of scope.
#pragma once

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <memory>

namespace qbd {

template <auto Destroy>
struct DestroyWith {
    template <typename T>
    void operator()(T* p) const {
        Destroy(p);
    }
};

template <typename T, auto Destroy>
using RdmaOwned = std::unique_ptr<T, DestroyWith<Destroy>>;

using EventChannelPtr = RdmaOwned<rdma_event_channel, rdma_destroy_event_channel>;
using CmIdPtr = RdmaOwned<rdma_cm_id, rdma_destroy_id>;
using PdPtr = RdmaOwned<ibv_pd, ibv_dealloc_pd>;
using CompChannelPtr = RdmaOwned<ibv_comp_channel, ibv_destroy_comp_channel>;
using CqPtr = RdmaOwned<ibv_cq, ibv_destroy_cq>;
using SrqPtr = RdmaOwned<ibv_srq, ibv_destroy_srq>;
using MrPtr = RdmaOwned<ibv_mr, ibv_dereg_mr>;
using DeviceListPtr = RdmaOwned<ibv_context*, rdma_free_devices>;

// The queue pair rdma_create_qp made for an id, destroyed with the id's
// rdma_destroy_qp (the id itself stays).
class CmQp {
  public:
    CmQp() = default;
    explicit CmQp(rdma_cm_id* id) : id_(id) {}
    ~CmQp() { reset(); }
    CmQp(CmQp&& o) noexcept : id_(o.id_) { o.id_ = nullptr; }
    CmQp& operator=(CmQp&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = o.id_;
            o.id_ = nullptr;
        }
        return *this;
    }
    void reset() {
        if (id_) rdma_destroy_qp(id_);
        id_ = nullptr;
    }
    ibv_qp* get() const { return id_ ? id_->qp : nullptr; }

  private:
    rdma_cm_id* id_ = nullptr;
};

}  // namespace qbd
