#include "read_tables.h"

#include <cstring>
#include <string>
#include <vector>

#include "collector.h"
#include "errors.h"
#include "hash_read.h"
#include "tidewatch.h"

namespace tidewatch {

namespace {

enum class Table {
	kRetransmits,
	kDrops
};

class TableWorker : public PromiseWorker {
public:
	TableWorker(Napi::Env env, CollectorPtr c, Table t)
		: PromiseWorker(env), c_(std::move(c)), t_(t)
	{
	}

protected:
	OpError Run() override
	{
		std::lock_guard<std::mutex> lock(c_->mu);
		if (c_->closed)
			return ClosedError();
		bool retrans = t_ == Table::kRetransmits;
		int fd = retrans ? c_->retrans_fd : c_->drops_fd;
		if (fd < 0)
			return {};
		size_t key_size = retrans ? sizeof(tw_tuple_key) : sizeof(uint32_t);
		int err = ReadHash(fd, key_size, sizeof(uint64_t),
				   retrans ? c_->retrans_percpu : c_->drops_percpu, c_->ncpus,
				   false, false, &raw_);
		if (err)
			return MakeOpError(err, retrans ? "cannot read retransmits" :
							  "cannot read drops");
		return {};
	}

	Napi::Value Result(Napi::Env env) override
	{
		Napi::Array out = Napi::Array::New(env, raw_.count());
		for (size_t i = 0; i < raw_.count(); i++) {
			uint64_t count = 0;
			for (size_t cpu = 0; cpu < raw_.copies; cpu++) {
				uint64_t v;
				memcpy(&v, raw_.value(i, cpu), sizeof(v));
				count += v;
			}
			Napi::Object o = Napi::Object::New(env);
			if (t_ == Table::kRetransmits) {
				tw_tuple_key k;
				memcpy(&k, raw_.key(i), sizeof(k));
				o.Set("family", k.family);
				o.Set("saddr",
				      Napi::Buffer<uint8_t>::Copy(env, k.saddr, sizeof(k.saddr)));
				o.Set("daddr",
				      Napi::Buffer<uint8_t>::Copy(env, k.daddr, sizeof(k.daddr)));
				o.Set("sport", k.sport);
				o.Set("dport", k.dport);
			} else {
				uint32_t reason;
				memcpy(&reason, raw_.key(i), sizeof(reason));
				o.Set("reason", reason);
			}
			o.Set("count", Napi::BigInt::New(env, count));
			out.Set(i, o);
		}
		return out;
	}

private:
	CollectorPtr c_;
	Table t_;
	RawEntries raw_;
};

} // namespace

Napi::Value ReadRetransmits(const Napi::CallbackInfo &info)
{
	return (new TableWorker(info.Env(), UnwrapCollector(info[0]), Table::kRetransmits))->Queue();
}

Napi::Value ReadDrops(const Napi::CallbackInfo &info)
{
	return (new TableWorker(info.Env(), UnwrapCollector(info[0]), Table::kDrops))->Queue();
}

} // namespace tidewatch
