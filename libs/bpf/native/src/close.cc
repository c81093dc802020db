#include "close.h"

#include "collector.h"

namespace tidewatch {

namespace {

class CloseWorker : public PromiseWorker {
public:
	CloseWorker(Napi::Env env, CollectorPtr c) : PromiseWorker(env), c_(std::move(c)) {}

protected:
	OpError Run() override
	{
		std::lock_guard<std::mutex> lock(c_->mu);
		ReleaseCollector(*c_);
		return {};
	}

private:
	CollectorPtr c_;
};

} // namespace

Napi::Value Close(const Napi::CallbackInfo &info)
{
	return (new CloseWorker(info.Env(), UnwrapCollector(info[0])))->Queue();
}

} // namespace tidewatch
