#include "open.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <string>

#include "collector.h"
#include "errors.h"

namespace tidewatch {

namespace {

// Map sizes applied before load; 0 keeps the size compiled into the object.
struct OpenOptions {
	std::string path;
	uint32_t flow_table_size = 0;
	uint32_t conn_table_size = 0;
	uint32_t retrans_table_size = 0;
	uint32_t drop_table_size = 0;
	uint32_t ring_buffer_bytes = 0;
	bool batch_ops = true;
};

bool IsPercpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

class OpenWorker : public PromiseWorker {
public:
	OpenWorker(Napi::Env env, OpenOptions opts) : PromiseWorker(env), opts_(std::move(opts)) {}

protected:
	OpError Run() override
	{
		auto c = std::make_shared<Collector>();
		c->ncpus = libbpf_num_possible_cpus();
		c->batch_ops = opts_.batch_ops;
		if (c->ncpus <= 0)
			return MakeOpError(-c->ncpus, "cannot count the possible CPUs");

		TakeLibbpfLog(0);
		bpf_object *obj = bpf_object__open_file(opts_.path.c_str(), nullptr);
		int err = libbpf_get_error(obj);
		if (err) {
			OpError e = MakeOpError(err, "cannot open BPF object " + opts_.path);
			if (-err == ENOENT || err == ENOENT)
				e.message += " (run `npm run build -w @tidewatch/bpf`)";
			return e;
		}
		c->obj = obj;

		OpError sized = Resize(obj, "tw_flows_a", opts_.flow_table_size);
		if (!sized.failed())
			sized = Resize(obj, "tw_flows_b", opts_.flow_table_size);
		if (!sized.failed())
			sized = Resize(obj, "tw_conn_start", opts_.conn_table_size);
		if (!sized.failed())
			sized = Resize(obj, "tw_retrans", opts_.retrans_table_size);
		if (!sized.failed())
			sized = Resize(obj, "tw_drops", opts_.drop_table_size);
		bpf_map *events = bpf_object__find_map_by_name(obj, "tw_events");
		if (!sized.failed() && events && opts_.ring_buffer_bytes &&
		    bpf_map__type(events) == BPF_MAP_TYPE_RINGBUF)
			sized = Resize(obj, "tw_events", opts_.ring_buffer_bytes);
		if (sized.failed())
			return sized;

		err = bpf_object__load(obj);
		if (err)
			return LoadError(err);

		OpError found = FindMaps(*c);
		if (found.failed())
			return found;
		collector_ = c;
		return {};
	}

	Napi::Value Result(Napi::Env env) override { return WrapCollector(env, collector_); }

private:
	// EPERM is about capabilities; EACCES/EINVAL with a program log is the
	// verifier's verdict, whose last lines say why.
	OpError LoadError(int err)
	{
		std::string log = TakeLibbpfLog(40);
		std::string what = "cannot load BPF object " + opts_.path;
		if (err < 0)
			err = -err;
		if (err == EPERM)
			return MakeOpError(err, what);
		bool verifier = log.find("BEGIN PROG LOAD LOG") != std::string::npos;
		OpError e =
			verifier ?
				OpError{err,
					what + ": the kernel's verifier rejected a program "
					       "(this kernel may be older than the object needs)"} :
				MakeOpError(err, what);
		if (!log.empty()) {
			size_t keep = log.size() > 2000 ? log.size() - 2000 : 0;
			e.message += "\nlibbpf said:\n" + log.substr(keep);
		}
		return e;
	}

	static OpError Resize(bpf_object *obj, const char *name, uint32_t size)
	{
		if (!size)
			return {};
		bpf_map *map = bpf_object__find_map_by_name(obj, name);
		if (!map)
			return {};
		int err = bpf_map__set_max_entries(map, size);
		if (err)
			return MakeOpError(err, std::string("cannot size map ") + name);
		return {};
	}

	OpError FindMaps(Collector &c)
	{
		struct Want {
			const char *name;
			int *fd;
			bool *percpu;
			bool required;
		} wants[] = {
			{"tw_config", &c.config_fd, nullptr, true},
			{"tw_ifslots", &c.ifslots_fd, nullptr, true},
			{"tw_ifslot_direct", &c.ifslot_direct_fd, nullptr, false},
			{"tw_traffic", &c.traffic_fd, nullptr, true},
			{"tw_errors", &c.errors_fd, nullptr, true},
			{"tw_tcp_stats", &c.tcp_stats_fd, nullptr, false},
			{"tw_flows_a", &c.flows_fd[0], &c.flows_percpu, false},
			{"tw_flows_b", &c.flows_fd[1], nullptr, false},
			{"tw_flow_pend", &c.flow_pend_fd, nullptr, false},
			{"tw_retrans", &c.retrans_fd, &c.retrans_percpu, false},
			{"tw_drops", &c.drops_fd, &c.drops_percpu, false},
			{"tw_events", &c.events_fd, nullptr, false},
		};
		for (const Want &w : wants) {
			bpf_map *map = bpf_object__find_map_by_name(c.obj, w.name);
			if (!map) {
				if (w.required)
					return OpError{ENOENT,
						       std::string("BPF object has no map ") +
							       w.name +
							       ": it does not match this addon"};
				continue;
			}
			*w.fd = bpf_map__fd(map);
			if (w.percpu)
				*w.percpu = IsPercpu(bpf_map__type(map));
			if (std::string(w.name) == "tw_events")
				c.events_ringbuf = bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF;
		}
		return {};
	}

	OpenOptions opts_;
	CollectorPtr collector_;
};

} // namespace

Napi::Value Open(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	OpenOptions opts;
	opts.path = info[0].As<Napi::String>().Utf8Value();
	if (info[1].IsObject()) {
		Napi::Object o = info[1].As<Napi::Object>();
		opts.flow_table_size = U32Arg(o, "flowTableSize", 0);
		opts.conn_table_size = U32Arg(o, "connTableSize", 0);
		opts.retrans_table_size = U32Arg(o, "retransTableSize", 0);
		opts.drop_table_size = U32Arg(o, "dropTableSize", 0);
		opts.ring_buffer_bytes = U32Arg(o, "ringBufferBytes", 0);
		Napi::Value batch = o.Get("batchOps");
		opts.batch_ops = !batch.IsBoolean() || batch.As<Napi::Boolean>().Value();
	}
	auto *worker = new OpenWorker(env, std::move(opts));
	return worker->Queue();
}

} // namespace tidewatch
